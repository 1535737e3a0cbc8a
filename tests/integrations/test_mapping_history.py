"""Mapping history, what blocked a message, and replay by that cause."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from integrations.events import Problem
from integrations.mappings import (
    code_lookup_for_message,
    inbound_blocked_by,
    mapping_key,
)
from integrations.models import CodeMapping, InboundMessage
from tests.integrations.helpers import deliver

pytestmark = pytest.mark.django_db

KEY = "mapping:carrier-crx:shipment_status:DLV2"


def _scan(tracking: str, code: str, event_id: str) -> dict:
    return {
        "tracking_number": tracking,
        "events": [
            {
                "id": event_id,
                "code": code,
                "description": "Handed to recipient",
                "occurred_at": "2025-03-04T18:02:00Z",
            }
        ],
    }


def test_saving_a_mapping_keeps_every_version():
    mapping = CodeMapping.objects.create(
        source="carrier-crx",
        category="shipment_status",
        external_code="DLV2",
        canonical_value="in_transit",
    )
    mapping.canonical_value = "delivered"
    mapping.save()

    versions = mapping.history.order_by("history_date").values_list(
        "history_type", "canonical_value"
    )
    assert list(versions) == [("+", "in_transit"), ("~", "delivered")]


def test_lookup_keys_an_unmapped_code_problem_by_the_code_it_names():
    lookup = code_lookup_for_message()
    assert lookup("shipment_status", "carrier-crx", " dlv2 ") is None
    assert lookup("exception_reason", "carrier-crx", "ZZ9") is None

    keyed = lookup.with_keys(
        [
            Problem("unmapped_code", "unmapped carrier code DLV2 (carrier CRX)"),
            Problem("unknown_reference", "no shipment with tracking number DLV2"),
        ]
    )

    assert keyed == [
        Problem("unmapped_code", "unmapped carrier code DLV2 (carrier CRX)", KEY),
        Problem("unknown_reference", "no shipment with tracking number DLV2"),
    ]


def test_a_code_inside_a_longer_word_is_not_taken_for_the_cause():
    lookup = code_lookup_for_message()
    lookup("unit", "edi-x12", "CA")
    lookup("shipment_status", "edi-x12", "ZZ")

    keyed = lookup.with_keys(
        [Problem("unmapped_code", "unmapped X12 status code ZZ (partner CARRIERX)")]
    )

    assert keyed[0].key == "mapping:edi-x12:shipment_status:ZZ"


def test_unmapped_carrier_code_records_what_blocked_the_message(seeded):
    message = deliver("carrier-crx", _scan("CRX000111222", "DLV2", "ev-1"))

    assert message.state == "needs_attention"
    assert message.blocked_by == KEY


def test_a_message_that_processes_has_no_blocker(seeded):
    CodeMapping.objects.create(
        source="carrier-crx",
        category="shipment_status",
        external_code="DLV2",
        canonical_value="delivered",
    )

    message = deliver("carrier-crx", _scan("CRX-UNKNOWN", "DLV2", "ev-1"))

    # The code maps; the unknown tracking number is not a mapping problem.
    assert message.state == "needs_attention"
    assert message.blocked_by == ""


def test_blocked_by_selects_exactly_and_a_catch_all_key_selects_every_source():
    def blocked(code: str, key: str) -> InboundMessage:
        from tests.admin.factories import ConnectionFactory, InboundMessageFactory

        return InboundMessageFactory(
            connection=ConnectionFactory(code=code),
            state="needs_attention",
            blocked_by=key,
        )

    crx = blocked("carrier-crx", KEY)
    other = blocked("carrier-zz", "mapping:carrier-zz:shipment_status:DLV2")
    blocked("carrier-yy", "mapping:carrier-yy:unit:DLV2")

    exact = inbound_blocked_by(key=KEY)
    catch_all = inbound_blocked_by(key="mapping:*:shipment_status:DLV2")

    assert list(exact) == [crx]
    assert set(catch_all) == {crx, other}


def test_mapping_key_is_upper_case_and_fits_the_column():
    key = mapping_key(source="s", category="unit", external_code=" ea" + "x" * 300)

    assert key.startswith("mapping:s:unit:EAX")
    assert len(key) == 200


def test_replay_command_by_blocker_replays_only_those_messages(seeded, capsys):
    first = deliver("carrier-crx", _scan("CRX000111222", "DLV2", "ev-1"))
    second = deliver("carrier-crx", _scan("CRX000111333", "DLV2", "ev-2"))
    unrelated = deliver("carrier-crx", _scan("CRX000111444", "XX7", "ev-3"))

    call_command("replay", "inbound", "--blocked-by", KEY)

    states = dict(InboundMessage.objects.values_list("pk", "state"))
    assert capsys.readouterr().out == "replayed 2 inbound message(s)\n"
    assert (states[first.pk], states[second.pk]) == ("received", "received")
    assert states[unrelated.pk] == "needs_attention"


def test_replay_command_by_a_blocker_with_nothing_left_replays_none(seeded, capsys):
    call_command("replay", "inbound", "--blocked-by", KEY)

    assert capsys.readouterr().out == "replayed 0 inbound message(s)\n"


def test_seeded_mappings_start_their_history_at_seeding(seeded):
    mapping = CodeMapping.objects.filter(category="shipment_status").first()

    [first] = mapping.history.values_list("history_type", "history_change_reason")

    assert first == ("+", "seeded default")
