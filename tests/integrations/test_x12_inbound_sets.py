"""X12 204, 210, 846, 940, 944 and 990 map to canonical events or problems."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.x12 import codes
from integrations.connectors.x12.mapping import parse_x12_file
from integrations.events import Event, Problem

SOURCE = "edi-x12"
UTC = dt.UTC
ISA = (
    "ISA*00*          *00*          *ZZ*PARTNER1       *ZZ*WAYBILL        "
    "*250305*0930*^*00401*000000777*0*P*>"
)
LOCATIONS = {"DC1": "DC-EAST", "PARTNER1": "DC-WEST"}

# CASES.md B13, as written there.
B13_210 = [
    "ST*210*0001",
    "B3**INV-7781*PRO4455*PP**20250305*148275****ABCD",
    "C3*USD",
    "N1*BT*NORTHWIND RETAIL",
    "LX*1",
    "L5*1*MIXED FREIGHT",
    "L0*1***1250*G***4*PLT",
    "L1*1*2.35*PH*117500",
    "L1*2***30775****FUE",
    "L3*1250*G***148275",
    "SE*11*0001",
]


def interchange(
    *sets: list[str], functional_id: str = "IM", control: int = 777
) -> bytes:
    """Return one interchange holding the given transaction sets in one group."""
    segments = [
        ISA.replace("000000777", f"{control:09d}"),
        f"GS*{functional_id}*PARTNER1*WAYBILL*20250305*0930*77*X*004010",
        *[segment for body in sets for segment in body],
        f"GE*{len(sets)}*77",
        f"IEA*1*{control:09d}",
    ]
    return "".join(f"{segment}~" for segment in segments).encode()


def transaction_set(st01: str, *body: str, control: str = "0001") -> list[str]:
    """Return ST, the body and an SE with the right count."""
    return [f"ST*{st01}*{control}", *body, f"SE*{len(body) + 2}*{control}"]


def parse(raw: bytes, *, locations: dict[str, str] | None = None):
    tables = {
        **codes.DEFAULT_TABLES,
        "location": LOCATIONS if locations is None else locations,
    }
    lookup = static_lookup({(category, SOURCE): t for category, t in tables.items()})
    return parse_x12_file(raw, source=SOURCE, lookup=lookup)


# --- 210 ------------------------------------------------------------------------


def test_b13_210_reads_n2_amounts_by_their_places_and_keeps_the_rate_as_sent():
    result = parse(interchange(B13_210))

    assert result.problems == []
    assert result.events == [
        Event(
            id="PARTNER1/000000777-77-0001",
            source=SOURCE,
            type="freight.invoiced",
            subject="INV-7781",
            time=dt.datetime(2025, 3, 5, tzinfo=UTC),
            data={
                "invoice_number": "INV-7781",
                "carrier_scac": "ABCD",
                "pro_number": "PRO4455",
                "bol_number": None,
                "references": [],
                "invoiced_on": "2025-03-05",
                "amount": "1482.75",
                "currency": "USD",
                "payment_method": "PP",
                "lines": [
                    {
                        "line_number": 1,
                        "rate": "2.35",
                        "rate_qualifier": "PH",
                        "charge": "1175.00",
                        "charge_code": None,
                        "description": "MIXED FREIGHT",
                    },
                    {
                        "line_number": 2,
                        "rate": None,
                        "rate_qualifier": None,
                        "charge": "307.75",
                        "charge_code": "FUE",
                        "description": "MIXED FREIGHT",
                    },
                ],
            },
        )
    ]


def test_b13_decimal_point_in_b307_holds_the_invoice_as_a_syntax_error():
    body = [segment.replace("*148275****", "*1482.75****") for segment in B13_210]

    result = parse(interchange(body))

    assert result.events == []
    assert result.problems == [
        Problem(
            "invalid_value",
            "X12 210 ST 0001: B307 '1482.75' is not an N2 number (segment B3 at "
            "position 2, element position 7): a syntax error, 997 AK4 6 (invalid "
            "character in data element); the document is held",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "L1*1*2.35*PH*117500",
            "L1*1*2.35*PH*1175.00",
            "L104 '1175.00' is not an N2 number (segment L1 at position 8, "
            "element position 4)",
        ),
        (
            "L3*1250*G***148275",
            "L3*1250*G***1482,75",
            "L305 '1482,75' is not an N2 number (segment L3 at position 10, "
            "element position 5)",
        ),
    ],
)
def test_stray_characters_in_any_n2_element_hold_the_invoice(old, new, reason):
    body = [new if segment == old else segment for segment in B13_210]

    [problem] = parse(interchange(body)).problems

    assert problem.code == "invalid_value"
    assert problem.reason.startswith(f"X12 210 ST 0001: {reason}: ")
    assert "AK4 6" in problem.reason


def test_210_whose_charges_do_not_add_up_to_its_total_is_held():
    body = [
        "L1*2***30770****FUE" if segment.startswith("L1*2") else segment
        for segment in B13_210
    ]

    result = parse(interchange(body))

    assert result.events == []
    assert result.problems == [
        Problem(
            "invalid_value",
            "X12 210 ST 0001: the L1 charges add up to 1482.70, B307 says 1482.75",
        )
    ]


def test_210_references_give_the_bill_of_lading_and_carrier_reference():
    body = transaction_set(
        "210",
        "B3**INV-1**CC**250305*5000****RDWY",
        "N9*BM*BOL-42",
        "N9*CN*1Z999",
        "N9*BM*BOL-42",
        "LX*1",
        "L1*1*50*FR*5000",
    )

    [event] = parse(interchange(body)).events

    assert event.time == dt.datetime(2025, 3, 5, tzinfo=UTC)
    assert event.data["pro_number"] is None
    assert event.data["bol_number"] == "BOL-42"
    assert event.data["references"] == [
        {"qualifier": "BM", "value": "BOL-42"},
        {"qualifier": "CN", "value": "1Z999"},
    ]
    assert (event.data["amount"], event.data["lines"][0]["rate"]) == ("50.00", "50")


def test_210_without_an_invoice_number_is_held():
    body = transaction_set("210", "B3***PRO1*PP**20250305*100")

    result = parse(interchange(body))

    assert result.problems == [
        Problem("invalid_value", "X12 210 ST 0001: B302 invoice is empty")
    ]


# --- 990 ------------------------------------------------------------------------


def _990(action: str, *extra: str, control: str = "0001") -> list[str]:
    return transaction_set(
        "990",
        f"B1*RDWY*SH-9001*20250305*{action}",
        "N9*CN*PRO-77",
        *extra,
        control=control,
    )


def test_accepted_tender_is_an_actual_carrier_assigned_milestone():
    [event] = parse(interchange(_990("A"), functional_id="GF")).events

    assert event.type == "shipment.milestone"
    assert event.subject == "SH-9001"
    # B103 is the group's day, so the group's time is the time of the answer.
    assert event.time == dt.datetime(2025, 3, 5, 9, 30, tzinfo=UTC)
    assert event.data == {
        "tracking_number": None,
        "shipment_number": "SH-9001",
        "status": "carrier_assigned",
        "external_code": "A",
        "description": "Load tender accepted by RDWY",
        "kind": "actual",
        "occurred_at": "2025-03-05T09:30:00+00:00",
        "tz_source": "assumed",
        "city": None,
        "state": None,
        "country": None,
        "reason_code": None,
        "carrier_scac": "RDWY",
        "carrier_reference": "PRO-77",
    }


@pytest.mark.parametrize(
    ("action", "extra", "description"),
    [
        ("D", ["V9*DEC*******EQU"], "Load tender declined by RDWY (reason EQU)"),
        ("E", [], "Load tender declined by RDWY"),
        (
            "C",
            ["K1*Will haul for $0.50/mile more"],
            "Load tender answered with a counter proposal by RDWY: "
            "Will haul for $0.50/mile more",
        ),
        ("B", [], "Load tender accepted on conditions by RDWY"),
    ],
)
def test_any_answer_but_acceptance_is_a_carrier_exception(action, extra, description):
    [event] = parse(interchange(_990(action, *extra))).events

    assert event.type == "shipment.exception"
    assert (event.data["status"], event.data["reason_code"]) == ("exception", "carrier")
    assert event.data["description"] == description


def test_unknown_tender_answer_is_an_unmapped_code():
    result = parse(interchange(_990("U")))

    assert result.events == []
    assert result.problems == [
        Problem(
            "unmapped_code",
            "unmapped X12 tender response code U (B104, partner PARTNER1)",
        )
    ]


# --- 846 ------------------------------------------------------------------------


def _846(*body: str) -> list[str]:
    return transaction_set(
        "846",
        "BIA*00*DD*SNAP-1*20250305*1015",
        "N1*WH*EAST DC*91*DC1",
        *body,
    )


def test_846_gives_one_snapshot_with_the_available_quantity_per_item():
    body = _846(
        "LIN*1*SK*SKU-A",
        "QTY*17*120",
        "QTY*33*100*EA",
        "LIN*2*VN*X-9*SK*SKU-B",
        "QTY*17*12",
        "UIT*CA",
    )

    result = parse(interchange(body, functional_id="IB"))

    assert result.problems == []
    assert result.events == [
        Event(
            id="PARTNER1/000000777-77-0001",
            source=SOURCE,
            type="inventory.snapshot",
            subject="DC-EAST",
            time=dt.datetime(2025, 3, 5, 10, 15, tzinfo=UTC),
            data={
                "warehouse": "DC-EAST",
                "report_id": "SNAP-1",
                "as_of": "2025-03-05T10:15:00+00:00",
                "items": [
                    {
                        "sku": "SKU-A",
                        "quantity": "100",
                        "unit": "EA",
                        "quantity_qualifier": "33",
                    },
                    {
                        "sku": "SKU-B",
                        "quantity": "12",
                        "unit": "CS",
                        "quantity_qualifier": "17",
                    },
                ],
            },
        )
    ]


def test_846_dtm_effective_time_with_its_time_code_is_the_as_of_time():
    body = _846("DTM*007*20250305*0800*ET", "LIN*1*SK*SKU-A", "QTY*33*5*EA")

    [event] = parse(interchange(body)).events

    assert event.data["as_of"] == "2025-03-05T13:00:00+00:00"


def test_846_time_beyond_the_last_utc_instant_is_a_problem():
    body = _846("DTM*007*99991231*2359*ET", "LIN*1*SK*SKU-A", "QTY*33*5*EA")

    result = parse(interchange(body))

    assert result.problems == [
        Problem(
            "invalid_value",
            "X12 846 ST 0001: DTM*007 9999-12-31 23:59:00 is out of range",
        )
    ]


def test_846_bad_lines_hold_the_whole_snapshot_and_each_is_reported():
    body = _846(
        "LIN*1*SK*SKU-A",
        "QTY*33*100*EA",
        "LIN*2*SK*SKU-B",
        "QTY*63*1000*EA",
        "LIN*3*SK*SKU-C",
        "QTY*17*7280*FTCTT",
    )

    result = parse(interchange(body))

    assert result.events == []
    assert result.problems == [
        Problem(
            "invalid_value",
            "X12 846 ST 0001 LIN 2 (SKU-B): no available (QTY 33) or on-hand "
            "(QTY 17) quantity; QTY qualifiers found: 63",
        ),
        Problem("unmapped_code", "unmapped X12 unit code FTCTT (partner PARTNER1)"),
    ]


def test_846_warehouse_falls_back_to_the_sender_and_must_be_mapped():
    body = transaction_set("846", "BIA*00*DD*S*20250305", "LIN*1*SK*A", "QTY*33*1")

    mapped = parse(interchange(body))
    unmapped = parse(interchange(body), locations={})

    assert mapped.events[0].data["warehouse"] == "DC-WEST"
    assert unmapped.problems == [
        Problem(
            "unmapped_code",
            "unmapped X12 location code PARTNER1 (the interchange sender, as no "
            "N1*WH or N1*ST names one)",
        )
    ]


# --- 944 ------------------------------------------------------------------------


def _944(*extra: str, total: str = "150") -> list[str]:
    return transaction_set(
        "944",
        "W17*F*20250305*WR-5*TR-9",
        "N1*WH*EAST DC*91*DC1",
        *extra,
        "W07*100*EA**SK*SKU-A***LOT-1",
        "W07*50*EA*012345678905*VN*V-2",
        f"W14*{total}",
    )


def test_944_receipt_without_an_rma_adds_stock():
    [event] = parse(interchange(_944(), functional_id="RE")).events

    assert (event.type, event.subject) == ("inventory.received", "WR-5")
    assert event.data == {
        "warehouse": "DC-EAST",
        "receipt_number": "WR-5",
        "reference": "TR-9",
        "received_at": "2025-03-05T00:00:00+00:00",
        "lines": [
            {
                "line_number": None,
                "sku": "SKU-A",
                "quantity": "100",
                "unit": "EA",
                "lot": "LOT-1",
            },
            {
                "line_number": None,
                "sku": "V-2",
                "quantity": "50",
                "unit": "EA",
                "lot": None,
            },
        ],
    }


def test_944_naming_a_return_authorisation_is_a_return_receipt():
    [event] = parse(interchange(_944("N9*RZ*RMA-000042"))).events

    assert (event.type, event.subject) == ("return.received", "RMA-000042")
    assert event.data["return_number"] == "RMA-000042"
    assert event.data["receipt_number"] == "WR-5"


def test_944_whose_lines_disagree_with_its_total_is_held():
    result = parse(interchange(_944(total="149")))

    assert result.problems == [
        Problem(
            "invalid_value",
            "X12 944 ST 0001: W14 says 149 units received, the lines add up to 150",
        )
    ]


# --- 940 ------------------------------------------------------------------------


def test_940_with_everything_a_release_needs_is_an_order_release():
    body = transaction_set(
        "940",
        "W05*N*SO-940-1*PO-77",
        "N1*DE*ACME RETAIL*91*ACME",
        "N1*ST*ACME DC*91*MAIN",
        "N1*WH*EAST DC*91*DC1",
        "G62*02*20250312",
        "G62*10*20250310",
        "LX*1",
        "W01*2*CA*012345678905*VN*V-1*SK*SKU-A",
        "LX*2",
        "W01*5*EA**SK*SKU-B",
    )

    result = parse(interchange(body, functional_id="OW"))

    assert result.problems == []
    assert result.events == [
        Event(
            id="PARTNER1/000000777-77-0001",
            source=SOURCE,
            type="order.released",
            subject="SO-940-1",
            time=dt.datetime(2025, 3, 5, tzinfo=UTC),
            data={
                "order_number": "SO-940-1",
                "account_number": "ACME",
                "po_number": "PO-77",
                "ship_from": "DC-EAST",
                "ship_to": "MAIN",
                "requested_date": "2025-03-10",
                "lines": [
                    {"line_number": 1, "sku": "SKU-A", "quantity": "2", "unit": "CS"},
                    {"line_number": 2, "sku": "SKU-B", "quantity": "5", "unit": "EA"},
                ],
            },
            correlationid="SO-940-1",
        )
    ]


def test_940_missing_what_a_release_needs_is_held_naming_all_of_it():
    body = transaction_set("940", "W05*N*SO-1", "W01*1*EA**SK*SKU-A")

    result = parse(interchange(body))

    assert result.problems == [
        Problem(
            "invalid_value",
            "X12 940 ST 0001: cannot release the order, missing depositor account "
            "(N1*DE N104), warehouse (N1*WH N104), an item and line number (LX01) "
            "on every W01",
        )
    ]


# --- 204 ------------------------------------------------------------------------


def test_204_load_tender_is_refused_as_not_accepted_from_a_partner():
    body = transaction_set("204", "B2**RDWY**SH-1**PP", "B2A*00*LT")

    result = parse(interchange(body, functional_id="SM"))

    assert result.events == []
    assert result.problems == [
        Problem(
            "unsupported_document",
            "X12 204 ST 0001 (Motor Carrier Load Tender) for shipment SH-1 from "
            "partner PARTNER1: load tenders go from the TMS to carriers, so the "
            "hub accepts none from a partner",
        )
    ]


# --- Robustness -------------------------------------------------------------------

SAMPLES = [
    B13_210,
    transaction_set("990", "B1*RDWY*SH-1*20250305*D", "V9*DEC*******EQU", "K1*NO"),
    transaction_set(
        "846",
        "BIA*00*DD*S*20250305*1015",
        "DTM*007*20250305*0800*ET",
        "N1*WH*EAST DC*91*DC1",
        "LIN*1*SK*SKU-A",
        "QTY*33*100*EA",
        "UIT*EA",
    ),
    transaction_set(
        "944",
        "W17*F*20250305*WR-5*TR-9",
        "N1*WH*EAST DC*91*DC1",
        "N9*RZ*RMA-1",
        "W07*100*EA**SK*SKU-A***LOT-1",
        "W14*100",
    ),
    transaction_set(
        "940",
        "W05*N*SO-1*PO-1",
        "N1*DE*A*91*ACME",
        "N1*WH*B*91*DC1",
        "G62*10*20250310",
        "LX*1",
        "W01*2*CA**SK*SKU-A",
    ),
    transaction_set("204", "B2**RDWY**SH-1**PP"),
]
ODD_VALUES = [
    "",
    "-",
    ".",
    "0",
    "-0",
    "1482.75",
    "9" * 40,
    "99991231",
    "00010101",
    "20251399",
    "2400",
    "2359",
    "ZZ",
    "A>B>C",
    "1E9999",
    "NaN",
    "LT",
    "01",
]


@st.composite
def damaged_set(draw) -> bytes:
    """Return a sample set with some elements replaced by odd values."""
    segments = [segment.split("*") for segment in draw(st.sampled_from(SAMPLES))]
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        # ST and SE stay intact: the envelope is the tokenizer's business.
        segment = draw(st.sampled_from(segments[1:-1]))
        position = draw(st.integers(min_value=1, max_value=len(segment) + 1))
        value = draw(st.sampled_from(ODD_VALUES))
        if position < len(segment):
            segment[position] = value
        else:
            segment.append(value)
    return interchange(["*".join(segment) for segment in segments])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_set())
def test_damaged_elements_give_events_or_readable_problems_never_an_error(raw):
    result = parse(raw)

    assert all(problem.reason for problem in result.problems)
    assert len(result.events) + len(result.problems) >= 1
