"""Bad data waits for a person (needs_attention); only an outage is retried."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError

from integrations import services
from integrations.models import InboundMessage
from integrations.timezones import TimestampError, resolve_event_time, to_utc
from shipments.models import Shipment
from tests.integrations.events import tms_milestone
from tests.integrations.helpers import deliver
from tests.integrations.shipping import shipment_in_flight


def test_offset_time_that_overflows_in_utc_is_a_timestamp_error():
    with pytest.raises(
        TimestampError,
        match=r"^'9999-12-31T23:00:00-05:00' is out of range in UTC$",
    ):
        resolve_event_time("9999-12-31T23:00:00-05:00")


def test_local_time_that_overflows_in_utc_is_a_timestamp_error():
    with pytest.raises(TimestampError, match="out of range in UTC"):
        to_utc(dt.datetime(9999, 12, 31, 23, 0), "America/Chicago")


def test_overflowing_time_stays_an_overflow_error_for_older_callers():
    with pytest.raises(OverflowError):
        resolve_event_time("0001-01-01T01:00:00+05:00")


def test_hub_body_nested_beyond_the_parser_needs_attention(seeded):
    body = b"[" * 50_000 + b"]" * 50_000

    message = deliver("tms", body)

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.attempts == 1
    assert message.error.startswith("body is not JSON: maximum recursion depth")


def test_hub_body_nested_beyond_the_limit_needs_attention(seeded):
    body = b'{"data": ' + b"[" * 100 + b"]" * 100 + b"}"

    message = deliver("wms", body)

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.error == "body nests deeper than 64 levels"


def test_hub_body_with_a_five_thousand_digit_number_needs_attention(seeded):
    body = b'{"id": "e1", "data": {"quantity": ' + b"9" * 5000 + b"}}"

    message = deliver("erp", body)

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.attempts == 1
    assert message.error.startswith("body is not JSON: Exceeds the limit (4300 digits)")


def test_tms_milestone_that_overflows_in_utc_needs_attention(seeded):
    shipment_in_flight("SH-Y10K", tracking="Y10K")
    milestone = tms_milestone(
        "SH-Y10K", "DEPARTED", "9999-12-31T23:00:00-05:00", event_id="y10k"
    )
    milestone["time"] = "2025-03-02T10:00:00Z"

    message = deliver("tms", milestone)

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.error == (
        "occurred_at '9999-12-31T23:00:00-05:00' is out of range in UTC"
    )


def test_carrier_scan_that_overflows_in_utc_spoils_only_itself(seeded):
    shipment_in_flight("SH-SCAN", tracking="CRX-SCAN")
    body = {
        "tracking_number": "CRX-SCAN",
        "events": [
            {"code": "PU", "occurred_at": "2025-03-02T08:00:00Z"},
            {"code": "IT", "occurred_at": "9999-12-31T23:00:00-05:00"},
        ],
    }

    message = deliver("carrier-crx", body)

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.attempts == 1
    assert message.error == (
        "event 1: occurred_at '9999-12-31T23:00:00-05:00' is not a timestamp"
    )
    assert Shipment.objects.get(number="SH-SCAN").status == "picked_up"


def test_value_error_escaping_a_connector_needs_attention(seeded, monkeypatch):
    def overflowing(**kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(services, "inbound_parse", overflowing)

    message = deliver("tms", b"{}")

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.next_attempt_at is None
    assert message.error == (
        "the message cannot be read (OverflowError: date value out of range)"
    )


def test_database_outage_while_parsing_is_still_retried(seeded, monkeypatch):
    def outage(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "inbound_parse", outage)

    message = deliver("tms", b"{}")

    assert message.state == InboundMessage.State.FAILED
    assert message.next_attempt_at is not None
    assert "server closed the connection" in message.error
