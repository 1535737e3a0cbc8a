"""X12 214, 856 and 945 map to canonical events; the rest become problems."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.x12 import codes
from integrations.connectors.x12.mapping import implied_decimal, parse_x12_file
from integrations.events import Event, Problem
from tests.integrations.test_x12_tokenizer import (
    B09_BODY,
    b09_encodings,
    interchange_text,
    mutated,
)

SOURCE = "edi-x12"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"
UTC = dt.UTC


def _lookup(**tables: dict[str, str]):
    defaults = {**codes.DEFAULT_TABLES, **tables}
    return static_lookup({(category, SOURCE): t for category, t in defaults.items()})


def _parse(raw: bytes, **tables: dict[str, str]):
    return parse_x12_file(raw, source=SOURCE, lookup=_lookup(**tables))


def _214(*statuses: str, heading: tuple[str, ...] = ()) -> bytes:
    """Return a 214 interchange whose LX loops hold the given segments."""
    body = [
        "ST*214*0001",
        "B10*PRO5551234     *SHP-1001*CRRX",
        *heading,
        *statuses,
    ]
    count = len(body) + 1
    return interchange_text(
        B09_BODY[0],
        *body,
        f"SE*{count}*0001",
        "GE*1*214",
        "IEA*1*000000214",
    )


def _milestone(**values) -> dict:
    """Return a 214 event's data with defaults for the unset keys."""
    return {
        "tracking_number": "PRO5551234",
        "shipment_number": "SHP-1001",
        "status": "carrier_assigned",
        "external_code": "X3",
        "description": "Arrived at Pick-up Location",
        "kind": "actual",
        "occurred_at": "2025-03-01T01:30:00+00:00",
        "tz_source": "location",
        "city": "SINGAPORE",
        "state": None,
        "country": "SG",
        "reason_code": None,
        "consignee": None,
        **values,
    }


@pytest.mark.parametrize(
    "encoding", ["tilde", "tilde-crlf", "newline", "bom-blank-lines"]
)
def test_b09_every_encoding_gives_the_same_canonical_event(encoding):
    result = _parse(b09_encodings()[encoding])

    assert result.problems == []
    assert result.events == [
        Event(
            id="CARRIERX/000000214-214-0001-1",
            source=SOURCE,
            type="shipment.milestone",
            subject="SHP-1001",
            time=dt.datetime(2025, 3, 1, 1, 30, tzinfo=UTC),
            data=_milestone(
                consignee={
                    "name": "KOPI TRADERS PTE LTD",
                    "city": "SINGAPORE",
                    "state": None,
                    "postal_code": "018956",
                    "country": "SG",
                }
            ),
        )
    ]


def test_unmapped_status_is_a_problem_and_the_other_statuses_still_map():
    raw = _214(
        "LX*1",
        "AT7*ZZ*NS***20250301*0930*LT",
        "MS1*SINGAPORE**SG",
        "LX*2",
        "AT7*X3*NS***20250301*0930*LT",
        "MS1*SINGAPORE**SG",
    )

    result = _parse(raw)

    assert result.problems == [
        Problem("unmapped_code", "unmapped X12 status code ZZ (partner CARRIERX)")
    ]
    assert [event.id for event in result.events] == ["CARRIERX/000000214-214-0001-2"]


def test_status_codes_follow_the_admin_mapping_not_the_defaults():
    raw = _214("LX*1", "AT7*X3*NS***20250301*0930*UT")

    result = _parse(raw, shipment_status={"X3": "in_transit"})

    assert result.events[0].data["status"] == "in_transit"


def test_time_codes_give_the_zone_and_win_over_the_location():
    raw = _214(
        "LX*1",
        "AT7*AF*NS***20250310*0915*CT",
        "MS1*SINGAPORE**SG",
        "LX*2",
        "AT7*X6*NS***20250310*0915*CS",
        "LX*3",
        "AT7*X4*NS***20250310*0915*UT",
    )

    result = _parse(raw)

    assert [(e.data["occurred_at"], e.data["tz_source"]) for e in result.events] == [
        ("2025-03-10T14:15:00+00:00", "payload"),  # CDT began on 9 March.
        ("2025-03-10T15:15:00+00:00", "payload"),  # CS is standard time all year.
        ("2025-03-10T09:15:00+00:00", "payload"),
    ]


def test_local_time_without_a_known_place_is_read_as_utc_and_flagged():
    raw = _214("LX*1", "AT7*X6*NS***20250310*0915*LT", "MS1*NOWHERE**ZZ")

    [event] = _parse(raw).events

    assert (event.data["occurred_at"], event.data["tz_source"]) == (
        "2025-03-10T09:15:00+00:00",
        "assumed",
    )


def test_lx_n4_is_the_location_when_there_is_no_ms1():
    raw = _214("LX*1", "N4*DENVER*CO**US", "AT7*X6*NS***20250310*0915")

    [event] = _parse(raw).events

    assert (event.data["occurred_at"], event.data["city"], event.data["state"]) == (
        "2025-03-10T15:15:00+00:00",
        "DENVER",
        "CO",
    )


def test_delivered_status_is_a_delivery_event():
    raw = _214("LX*1", "AT7*D1*NS***20250304*1802*UT")

    [event] = _parse(raw).events

    assert (event.type, event.data["status"]) == ("shipment.delivered", "delivered")


def test_exception_reason_makes_an_exception_event_whatever_the_status():
    raw = _214(
        "LX*1",
        "AT7*AH*AG***20250304*1802*UT",
        "LX*2",
        "AT7*SD*ZQ***20250304*1900*UT",
        "LX*3",
        "AT7*X6*ZQ***20250304*2000*UT",
    )

    result = _parse(raw)

    assert [
        (e.type, e.data["status"], e.data["reason_code"]) for e in result.events
    ] == [
        ("shipment.exception", "delivery_attempted", "consignee"),
        ("shipment.exception", "exception", "ZQ"),
        ("shipment.milestone", "in_transit", "ZQ"),
    ]


def test_estimated_delivery_is_an_estimate_with_an_eta_or_an_eta_date():
    raw = _214(
        "LX*1",
        "AT7*AG*NS***20250305*1200*ET",
        "AT7*AG*NS***20250306",
    )

    result = _parse(raw)

    assert result.problems == []
    assert [
        (e.id, e.type, e.data["kind"], e.data.get("eta"), e.data.get("eta_date"))
        for e in result.events
    ] == [
        (
            "CARRIERX/000000214-214-0001-1",
            "shipment.milestone",
            "estimated",
            "2025-03-05T17:00:00+00:00",
            None,
        ),
        (
            "CARRIERX/000000214-214-0001-1.2",
            "shipment.milestone",
            "estimated",
            None,
            "2025-03-06",
        ),
    ]


@pytest.mark.parametrize(
    ("at7", "reason"),
    [
        (
            "AT7*X6*NS***20250306",
            "X12 214 ST 0001 LX 1: AT7 has a date but no time",
        ),
        (
            "AT7*X6*NS***20250230*0900*UT",
            "X12 214 ST 0001 LX 1: AT7 date '20250230' is not a date",
        ),
        (
            "AT7*X6*NS***20250301*2599*UT",
            "X12 214 ST 0001 LX 1: AT7 time '2599' is not a time",
        ),
        (
            "AT7**NS***20250301*0900*UT",
            "X12 214 ST 0001 LX 1: AT7 has no status code (AT701)",
        ),
        (
            "AT7*X6*NS***99991231*2359*24",
            "X12 214 ST 0001 LX 1: AT7 99991231 2359 is out of range",
        ),
    ],
)
def test_unreadable_at7_is_a_problem_for_that_status_alone(at7, reason):
    raw = _214("LX*1", at7, "LX*2", "AT7*X3*NS***20250301*0930*UT")

    result = _parse(raw)

    assert result.problems == [Problem("invalid_value", reason)]
    assert [event.id for event in result.events] == ["CARRIERX/000000214-214-0001-2"]


def test_older_at7_layout_with_a_century_element_is_read():
    raw = _214("LX*1", "AT7*X6*NS***250310*20*0915*UT")

    [event] = _parse(raw).events

    assert event.data["occurred_at"] == "2025-03-10T09:15:00+00:00"


def test_214_without_shipment_references_is_a_problem():
    raw = interchange_text(
        B09_BODY[0], "ST*214*0001", "B10**", "SE*3*0001", "GE*1*214", "IEA*1*000000214"
    )

    result = _parse(raw)

    assert result.events == []
    assert result.problems == [
        Problem(
            "invalid_value", "X12 214 ST 0001: B10 names no shipment (B1001, B1002)"
        )
    ]


def test_856_maps_packs_weights_and_lines():
    result = _parse((FIXTURES / "856-two-cartons.edi").read_bytes())

    assert result.problems == []
    assert result.events == [
        Event(
            id="WMSEAST/000000856-856-0001",
            source=SOURCE,
            type="shipment.packed",
            subject="SHP-2001",
            time=dt.datetime(2025, 3, 2, 8, 10, tzinfo=UTC),
            correlationid="SO-1001",
            data={
                "order_number": "SO-1001",
                "shipment_number": "SHP-2001",
                "ship_from": "DC-EAST",
                "packages": [
                    {
                        "sscc": "012345670000000017",
                        "weight_kg": "5.670",
                        "length_cm": None,
                        "width_cm": None,
                        "height_cm": None,
                    },
                    {
                        "sscc": "123456700000000024",
                        "weight_kg": "4.536",
                        "length_cm": None,
                        "width_cm": None,
                        "height_cm": None,
                    },
                ],
                "lines": [
                    {"line_number": 1, "sku": "SKU-A", "quantity": "3", "unit": "EA"},
                    {"line_number": 2, "sku": "SKU-B", "quantity": "2", "unit": "CS"},
                ],
            },
        )
    ]


def test_856_unit_the_mapping_does_not_know_is_a_problem():
    raw = (
        (FIXTURES / "856-two-cartons.edi")
        .read_bytes()
        .replace(b"SN1**2*CA", b"SN1**2*QQ")
    )

    result = _parse(raw)

    assert result.events == []
    assert result.problems == [
        Problem("unmapped_code", "unmapped X12 unit code QQ (partner WMSEAST)")
    ]


def test_945_maps_shipped_lines_and_cartons():
    result = _parse((FIXTURES / "945-two-cartons.edi").read_bytes())

    assert result.problems == []
    assert result.events == [
        Event(
            id="WMSEAST/000000945-945-0001",
            source=SOURCE,
            type="shipment.packed",
            subject="SHP-2002",
            time=dt.datetime(2025, 3, 2, tzinfo=UTC),
            correlationid="SO-1002",
            data={
                "order_number": "SO-1002",
                "shipment_number": "SHP-2002",
                "ship_from": "DC-EAST",
                "packages": [
                    {
                        "sscc": "012345670000000031",
                        "weight_kg": None,
                        "length_cm": None,
                        "width_cm": None,
                        "height_cm": None,
                    },
                    {
                        "sscc": "012345670000000048",
                        "weight_kg": None,
                        "length_cm": None,
                        "width_cm": None,
                        "height_cm": None,
                    },
                ],
                "lines": [
                    {"line_number": 1, "sku": "SKU-A", "quantity": "5", "unit": "CS"},
                    {"line_number": 2, "sku": "SKU-B", "quantity": "59", "unit": "EA"},
                ],
            },
        )
    ]


def test_945_whose_totals_disagree_with_its_lines_is_refused():
    raw = (
        (FIXTURES / "945-two-cartons.edi").read_bytes().replace(b"W03*64*", b"W03*65*")
    )

    result = _parse(raw)

    assert result.events == []
    assert result.problems == [
        Problem(
            "invalid_value",
            "X12 945 ST 0001: W03 says 65 units shipped, the W12 lines add up to 64",
        )
    ]


def test_other_documents_are_reported_as_not_accepted_yet():
    raw = interchange_text(
        "GS*PO*A*B*20250301*1200*7*X*004010",
        "ST*850*0001",
        "BEG*00*SA*PO-1**20250301",
        "SE*3*0001",
        "ST*810*0002",
        "BIG*20250301*INV-1",
        "SE*3*0002",
        "GE*2*7",
        "IEA*1*000000214",
    )

    result = _parse(raw)

    assert result.events == []
    assert result.problems == [
        Problem(
            "unsupported_document",
            "X12 850 (Purchase Order) is not a document this hub accepts yet",
        ),
        Problem(
            "unsupported_document",
            "X12 810 (Invoice) is not a document this hub accepts yet",
        ),
    ]


def test_rejected_set_is_an_envelope_problem_and_the_others_still_map():
    raw = interchange_text(
        B09_BODY[0],
        "ST*214*0001",
        "B10*PRO1*SHP-1*CRRX",
        "SE*9*0001",
        "ST*214*0002",
        "B10*PRO2*SHP-2*CRRX",
        "LX*1",
        "AT7*X3*NS***20250301*0930*UT",
        "SE*5*0002",
        "GE*2*214",
        "IEA*1*000000214",
    )

    result = _parse(raw)

    assert result.problems == [
        Problem(
            "invalid_envelope",
            "X12 214 ST 0001 (ISA 000000214): SE01 says 9 segments, found 3",
        )
    ]
    assert [event.subject for event in result.events] == ["SHP-2"]


def test_unreadable_file_is_an_envelope_problem():
    result = _parse(b"hello")

    assert result.problems == [
        Problem(
            "invalid_envelope", "no ISA segment: the file is not an X12 interchange"
        )
    ]


def test_envelope_warnings_are_logged_and_the_data_used(caplog):
    raw = _214("LX*1", "AT7*X3*NS***20250301*0930*UT").replace(
        b"IEA*1*000000214", b"IEA*1*000000215"
    )

    with caplog.at_level("WARNING"):
        result = _parse(raw)

    assert len(result.events) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "X12 envelope warning: ISA 000000214: IEA02 says 000000215"
    ]


@pytest.mark.parametrize(
    ("text", "places", "value"),
    [
        ("148275", 2, Decimal("1482.75")),
        ("117500", 2, Decimal("1175.00")),
        ("-30775", 2, Decimal("-307.75")),
        ("1250", 0, Decimal(1250)),
    ],
)
def test_b13_implied_decimals_are_read_by_their_places(text, places, value):
    assert implied_decimal(text, places) == value


def test_b13_a_decimal_point_in_an_implied_decimal_element_is_refused():
    with pytest.raises(
        ValueError, match=r"^'1482.75' is not an implied-decimal \(N2\) number$"
    ):
        implied_decimal("1482.75", 2)


def test_default_tables_only_use_the_canonical_vocabularies():
    statuses = {
        "planned", "tendered", "carrier_assigned", "picked_up", "in_transit",
        "out_for_delivery", "delivery_attempted", "available_for_pickup", "delivered",
        "exception", "returned_to_sender", "cancelled",
    }  # fmt: skip
    reasons = {"carrier", "shipper", "consignee", "customs", "weather", "other"}

    assert set(codes.SHIPMENT_STATUS.values()) <= statuses
    assert set(codes.EXCEPTION_REASON.values()) <= reasons
    assert codes.ESTIMATE_CODES <= set(codes.SHIPMENT_STATUS)
    assert codes.NORMAL_REASON not in codes.EXCEPTION_REASON
    assert codes.SHIPMENT_STATUS["X3"] == "carrier_assigned"  # B01: not picked up.


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mapping_mutated_files_never_raises(raw):
    result = _parse(raw)

    assert all(isinstance(problem, Problem) for problem in result.problems)


def test_two_senders_with_the_same_control_numbers_give_different_event_ids():
    """Every partner numbers from 1: the sender keeps their events apart."""
    raw = _214("LX*1", "AT7*X3*NS***20250301*0930*LT", "MS1*SINGAPORE**SG")
    other = raw.replace(b"CARRIERX       ", b"OTHERCARR      ", 1)

    first, second = _parse(raw), _parse(other)

    assert len(other) == len(raw)
    assert [e.id for e in first.events] == ["CARRIERX/000000214-214-0001-1"]
    assert [e.id for e in second.events] == ["OTHERCARR/000000214-214-0001-1"]
