"""EDIFACT from the file drop: IFTSTA statuses and DESADV packs; the envelope rules."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.edifact import codes
from integrations.connectors.edifact.mapping import parse_edifact_file
from integrations.events import Problem
from integrations.files import file_drop_folder, file_drop_poll
from integrations.models import Connection
from integrations.services import inbound_message_process
from operations.demo import demo_order
from shipments.models import Shipment
from tests.integrations.events import cloudevent
from tests.integrations.helpers import deliver
from tests.integrations.shipping import shipment_in_flight

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "edifact"
SOURCE = "edi-edifact"
UTC = dt.UTC
LOOKUP = static_lookup(
    {
        ("shipment_status", SOURCE): codes.IFTSTA_STATUS,
        ("exception_reason", SOURCE): codes.IFTSTA_REASON,
    }
)


def _parse(raw: bytes):
    return parse_edifact_file(raw, source=SOURCE, lookup=LOOKUP)


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _summary(result) -> list[tuple]:
    return [
        (e.type, e.subject, e.time, e.data["status"], e.data["city"])
        for e in result.events
    ]


TWO_CONSIGNMENTS = [
    (
        "shipment.milestone",
        "CRX000111222",
        dt.datetime(2025, 3, 4, 8, 10, tzinfo=UTC),
        "out_for_delivery",
        "Hamburg",
    ),
    (
        "shipment.delivered",
        "CRX000111222",
        dt.datetime(2025, 3, 4, 18, 2, tzinfo=UTC),
        "delivered",
        "Hamburg",
    ),
    (
        "shipment.exception",
        "CRX000111333",
        dt.datetime(2025, 3, 3, 23, 0, tzinfo=UTC),
        "exception",
        "Krakow",
    ),
]


def test_iftsta_gives_one_event_per_status_with_local_times_resolved():
    result = _parse(_fixture("iftsta-two-consignments.edi"))

    assert result.problems == []
    assert _summary(result) == TWO_CONSIGNMENTS
    delivered = result.events[1].data
    assert delivered["external_code"] == "21"
    assert delivered["description"] == "Delivered, signed O'Neil"
    assert (delivered["tz_source"], delivered["country"]) == ("location", "DE")


def test_fixture_statuses_are_read_by_their_rec24_codes():
    result = _parse(_fixture("iftsta-two-consignments.edi"))

    # The free text agrees with the Rec 24 code; only the code is read.
    assert [
        (e.data["external_code"], e.data["description"], e.data["status"])
        for e in result.events
    ] == [
        ("113", "Out for delivery", "out_for_delivery"),
        ("21", "Delivered, signed O'Neil", "delivered"),
        ("106", "Delivery refused by agent", "exception"),
    ]
    # Reason 3: the consignee's agent refused delivery.
    assert result.events[2].data["reason_code"] == "consignee"


def test_una_delimiters_and_hard_wrapped_lines_give_the_same_events():
    plain = _parse(_fixture("iftsta-two-consignments.edi"))
    wrapped = _parse(_fixture("iftsta-wrapped-custom-una.edi"))

    assert wrapped.problems == []
    assert wrapped.events == plain.events


def test_newline_as_segment_terminator_keeps_the_line_breaks_as_data():
    plain = _fixture("iftsta-two-consignments.edi").decode()
    segments = plain.replace("?'", "\x00").split("'\n")[1:]
    raw = "UNA:+.? \n" + "\r\n".join(segments).replace("\x00", "'")

    result = _parse(raw.encode())

    assert result.problems == []
    assert result.events == _parse(plain.encode()).events


def test_resent_file_gives_the_same_event_ids():
    raw = _fixture("iftsta-two-consignments.edi")

    assert [e.id for e in _parse(raw).events] == [e.id for e in _parse(raw).events]
    assert len({e.id for e in _parse(raw).events}) == 3


def test_missing_unz_is_a_warning_and_bad_statuses_are_problems_alone(caplog):
    with caplog.at_level(logging.WARNING):
        result = _parse(_fixture("iftsta-no-unz-bad-values.edi"))

    # The arrival (1) has a bad date and 99 (transferred out) names no
    # status; the departure (24) after them is still used.
    assert _summary(result) == [
        (
            "shipment.milestone",
            "CRX000111222",
            dt.datetime(2025, 3, 5, 6, 45, tzinfo=UTC),
            "in_transit",
            "Hamburg",
        )
    ]
    assert [(p.code, p.reason) for p in result.problems] == [
        (
            "invalid_value",
            "EDIFACT IFTSTA 7 CRX000111222 status 0: DTM '20020148' (format 102) "
            "is not a date-time",
        ),
        ("unmapped_code", "unmapped carrier code 99 (carrier edi-edifact)"),
    ]
    assert (
        "interchange IC0002 has no UNZ trailer; its 1 complete message(s) are used"
        in caplog.messages[-1]
    )


def test_message_cut_off_before_unt_is_refused_and_complete_one_used():
    result = _parse(_fixture("iftsta-cut-off-message.edi"))

    assert [(e.type, e.data["status"]) for e in result.events] == [
        ("shipment.milestone", "out_for_delivery")
    ]
    assert [(p.code, p.reason) for p in result.problems] == [
        ("invalid_envelope", "message 2 (IFTSTA) ends before its UNT")
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "no UNB interchange header: not an EDIFACT interchange"),
        (b"ISA*00*~", "no UNB interchange header: not an EDIFACT interchange"),
        (b"UNB+UNOA:3+A+B+250101:0000+1'UNH+1", "the EDIFACT tokenizer stopped"),
    ],
)
def test_unreadable_file_is_an_invalid_envelope(raw, reason):
    result = _parse(raw)

    assert result.events == []
    [problem] = result.problems
    assert problem.code == "invalid_envelope"
    assert problem.reason.startswith(reason)


def test_message_types_the_hub_does_not_take_are_unsupported():
    raw = (
        b"UNB+UNOA:3+A+B+250101:0000+9'UNH+1+INVOIC:D:97A:UN'BGM+380+1'UNT+3+1'"
        b"UNH+2+ORDERS:D:96A:UN'BGM+220+2'UNT+3+2'UNZ+2+9'"
    )

    assert _parse(raw).problems == [
        Problem(
            "unsupported_document",
            "EDIFACT INVOIC (invoice) is not a document this hub accepts",
        ),
        Problem(
            "unsupported_document",
            "EDIFACT ORDERS (purchase order) is not a document this hub accepts",
        ),
    ]


DESADV = (
    b"UNA:+.? '"
    b"UNB+UNOC:3+SUP:14+WAYBILL:14+250301:1200+77'"
    b"UNH+1+DESADV:D:96A:UN:EAN005'BGM+351+SH-9001+9'"
    b"DTM+137:202503011130:203'RFF+ON:SO-9001'"
    b"CPS+1'PAC+1++CT'MEA+PD+AAD+GRM:1250'MEA+PD+LN+MMT:305'"
    b"MEA+PD+WD+CMT:20.5'MEA+PD+HT+MTR:0.1'PCI+33E'GIN+BJ+003456789012345675'"
    b"LIN+1++4006381333931:EN'PIA+1+SKU-A:SA'QTY+12:3:PCE'"
    b"LIN+2++4006381333948:EN'QTY+12:1.5'"
    b"UNT+17+1'UNZ+1+77'"
)


def test_desadv_packs_packages_with_sscc_measures_and_lines():
    result = _parse(DESADV)

    assert result.problems == []
    [event] = result.events
    assert (event.id, event.type, event.subject, event.correlationid) == (
        "SUP/77-1",
        "shipment.packed",
        "SH-9001",
        "SO-9001",
    )
    assert event.time == dt.datetime(2025, 3, 1, 11, 30, tzinfo=UTC)
    assert event.data == {
        "order_number": "SO-9001",
        "shipment_number": "SH-9001",
        "ship_from": "",
        "packages": [
            {
                "sscc": "003456789012345675",
                "weight_kg": "1.25",
                "length_cm": "30.5",
                "width_cm": "20.5",
                "height_cm": "10",
            }
        ],
        "lines": [
            {"line_number": 1, "sku": "SKU-A", "quantity": "3", "unit": "PCE"},
            {"line_number": 2, "sku": "4006381333948", "quantity": "1.5", "unit": None},
        ],
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1,5", "1.5"), ("2.25", "2.25"), ("NaN", None), ("9E999999999", None)],
)
def test_desadv_quantity_reads_either_decimal_mark_and_refuses_non_numbers(
    value, expected
):
    raw = DESADV.replace(b"QTY+12:1.5'", f"QTY+12:{value}'".encode())

    result = _parse(raw)

    if expected is None:
        assert result.events == []
        assert result.problems == [
            Problem("invalid_value", f"EDIFACT DESADV 1: {value!r} is not a number")
        ]
    else:
        assert result.events[0].data["lines"][1]["quantity"] == expected


def test_desadv_without_order_reference_is_an_invalid_value():
    raw = b"UNB+UNOC:3+S+R+250301:1200+78'UNH+1+DESADV:D:96A:UN'BGM+351+SH-1'UNT+3+1'"

    assert _parse(raw).problems == [
        Problem("invalid_value", "EDIFACT DESADV 1: no RFF ON order number")
    ]


def _drop(path: Path, content: bytes) -> None:
    """Write a file as a finished upload: old enough for the poller to take."""
    path.write_bytes(content)
    settled = time.time() - 3600
    os.utime(path, (settled, settled))


@pytest.mark.django_db
def test_dropped_iftsta_file_moves_the_shipment_to_delivered(
    seeded, tmp_path, settings
):
    settings.WAYBILL_FILE_DROP_ROOT = tmp_path / "drop"
    connection = Connection.objects.get(code=SOURCE)
    folder = file_drop_folder(connection)
    shipment = shipment_in_flight("SH-E1", tracking="CRX000111222", status="in_transit")
    _drop(folder / "status.edi", _fixture("iftsta-wrapped-custom-una.edi"))

    [message] = file_drop_poll()
    inbound_message_process(message_id=message.pk)

    message.refresh_from_db()
    shipment.refresh_from_db()
    assert message.content_type == "application/edifact"
    # The second consignment is unknown to the hub: it waits for a person.
    assert message.state == "needs_attention"
    assert "CRX000111333" in message.error
    assert shipment.status == "delivered"
    assert shipment.delivered_at == dt.datetime(2025, 3, 4, 18, 2, tzinfo=UTC)
    assert shipment.events.count() == 2


@pytest.mark.django_db
def test_dropped_desadv_creates_the_shipment_and_its_carton(seeded, tmp_path, settings):
    settings.WAYBILL_FILE_DROP_ROOT = tmp_path / "drop"
    released = demo_order(number="SO-9001", account_number="ACME", index=0)
    deliver(
        "erp",
        cloudevent(
            "order.released",
            "SO-9001",
            released,
            source="erp/sim",
            time="2025-03-01T10:00:00Z",
        ),
    )
    folder = file_drop_folder(Connection.objects.get(code=SOURCE))
    _drop(folder / "despatch.edi", DESADV)

    [message] = file_drop_poll()
    inbound_message_process(message_id=message.pk)

    message.refresh_from_db()
    shipment = Shipment.objects.get(number="SH-9001")
    package = shipment.packages.get()
    assert (message.state, message.error) == ("processed", "")
    assert shipment.order.number == "SO-9001"
    assert shipment.order.status == "packed"
    assert package.sscc == "003456789012345675"
    assert package.weight_kg == Decimal("1.25")
    assert (package.length_cm, package.width_cm, package.height_cm) == (
        Decimal("30.5"),
        Decimal("20.5"),
        Decimal("10"),
    )


def test_the_interchange_sender_is_read_from_unb_for_event_ids():
    from integrations.connectors.edifact.interchange import parse_interchange

    raw = b"UNB+UNOC:3+SUPA+HUB+250301:1200+77'UNZ+0+77'"
    other = raw.replace(b"SUPA", b"SUPB")

    assert parse_interchange(raw).sender == "SUPA"
    assert parse_interchange(other).sender == "SUPB"
