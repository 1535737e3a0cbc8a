"""IFTSTA status and reason codes read by their UN/CEFACT Rec 24 meaning."""

from __future__ import annotations

import pytest

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.edifact import codes
from integrations.connectors.edifact.mapping import parse_edifact_file
from integrations.mappings import code_lookup_for_message
from integrations.models import CodeMapping
from integrations.seeding import mappings_seed
from shipments.models import ShipmentStatus
from shipments.services import EXCEPTION_WORDING

SOURCE = "edi-edifact"
LOOKUP = static_lookup(
    {
        ("shipment_status", SOURCE): codes.IFTSTA_STATUS,
        ("exception_reason", SOURCE): codes.IFTSTA_REASON,
    }
)


def _iftsta(sts: str) -> bytes:
    """Return an interchange with one IFTSTA whose only STS is ``sts``."""
    return (
        "UNB+UNOC:3+CARRIERX:ZZ+WAYBILL:ZZ+250304:1900+IC0201'"
        "UNH+1+IFTSTA:D:01B:UN'BGM+77+ST-0201+9'CNI+1+CRX000111222'"
        f"STS+1+{sts}'DTM+334:202503040910:203'LOC+175+DEHAM:139:6:Hamburg'"
        "UNT+7+1'UNZ+1+IC0201'"
    ).encode()


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("6", "carrier_assigned"),  # Booking, completed.
        ("13", "picked_up"),  # Collection/pick-up, completed.
        ("1", "in_transit"),  # Arrival, completed.
        ("24", "in_transit"),  # Departure, completed.
        ("113", "out_for_delivery"),  # Delivery, in progress.
        ("23", "delivery_attempted"),  # Delivery, not completed.
        ("109", "delivery_attempted"),  # Delivery impossible, notice left.
        ("112", "available_for_pickup"),  # Held at the consignee's disposal.
        ("21", "delivered"),  # Delivery, completed.
        ("22", "delivered"),  # Delivery, completed as per instruction.
        ("82", "returned_to_sender"),  # Returned.
        ("17", "exception"),  # Customs clearance, refused.
        ("18", "exception"),  # Damaged in the course of transport.
        ("20", "exception"),  # Delayed in the course of transport.
    ],
)
def test_rec24_status_code_gives_its_canonical_status(code, status):
    result = parse_edifact_file(_iftsta(code), source=SOURCE, lookup=LOOKUP)

    assert result.problems == []
    [event] = result.events
    assert (event.data["external_code"], event.data["status"]) == (code, status)


@pytest.mark.parametrize(
    "code",
    [
        "5",  # Process, begun.
        "7",  # Booking, cancelled: the shipment may be booked again.
        "11",  # Cleared, by port authority.
        "12",  # Cleared, by customs: before or after pick-up alike.
        "45",  # Arrival, consignee informed.
        "74",  # Received: by whom is not said.
    ],
)
def test_rec24_code_without_a_clear_status_goes_to_a_person(code):
    result = parse_edifact_file(_iftsta(code), source=SOURCE, lookup=LOOKUP)

    assert result.events == []
    assert [(p.code, p.reason) for p in result.problems] == [
        ("unmapped_code", f"unmapped carrier code {code} (carrier edi-edifact)")
    ]


@pytest.mark.parametrize(
    ("sts", "reason"),
    [
        ("106+3", "consignee"),  # Delivery refused; the agent refused.
        ("17+13", "customs"),  # Customs clearance refused; customs refusal.
        ("101+63", "weather"),  # Delayed in transit; weather conditions.
        ("20+35", "carrier"),  # Delayed; mechanical breakdown.
        ("18+14", "14"),  # Damaged names no party: kept as sent.
        ("23+6", ""),  # An attempt is no exception: no reason is kept.
    ],
)
def test_status_reason_maps_to_the_exception_taxonomy(sts, reason):
    result = parse_edifact_file(_iftsta(sts), source=SOURCE, lookup=LOOKUP)

    assert result.problems == []
    assert result.events[0].data["reason_code"] == reason


def test_every_default_is_a_canonical_status_or_reason():
    assert set(codes.IFTSTA_STATUS.values()) <= set(ShipmentStatus.values)
    assert set(codes.IFTSTA_REASON.values()) <= set(EXCEPTION_WORDING)


def _seeded_table(category: str) -> dict[str, str]:
    rows = CodeMapping.objects.filter(source=SOURCE, category=category)
    return dict(rows.values_list("external_code", "canonical_value"))


@pytest.mark.django_db
def test_a_new_database_is_seeded_with_the_rec24_defaults():
    mappings_seed()

    assert _seeded_table("shipment_status") == codes.IFTSTA_STATUS
    assert _seeded_table("exception_reason") == codes.IFTSTA_REASON
    lookup = code_lookup_for_message()
    result = parse_edifact_file(_iftsta("113"), source=SOURCE, lookup=lookup)
    assert result.events[0].data["status"] == "out_for_delivery"


@pytest.mark.django_db
def test_seeding_leaves_a_mapping_an_operator_edited():
    CodeMapping.objects.create(
        source=SOURCE,
        category="shipment_status",
        external_code="113",
        canonical_value="in_transit",
    )

    mappings_seed()

    table = _seeded_table("shipment_status")
    assert table["113"] == "in_transit"
    assert table["21"] == "delivered"
