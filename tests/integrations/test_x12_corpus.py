"""Every X12 file of the shared corpus, with the outcome it must have.

A new corpus file fails ``test_table_covers_every_corpus_file`` until its row
is added here, so nobody adds a sample without deciding what it must give.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.x12 import codes
from integrations.connectors.x12.mapping import parse_x12_file
from integrations.edi.x12 import parse_interchanges

SOURCE = "edi-x12"


def not_yet(st01: str) -> tuple[str, str]:
    """Return the problem for a transaction set the hub does not accept yet."""
    name = codes.TRANSACTION_SET_NAMES[st01]
    return (
        "unsupported_document",
        f"X12 {st01} ({name}) is not a document this hub accepts yet",
    )


def load_tender(st02: str, shipment: str, sender: str) -> tuple[str, str]:
    """Return the problem for a 204 load tender, which no partner may send."""
    return (
        "unsupported_document",
        f"X12 204 ST {st02} (Motor Carrier Load Tender) for shipment {shipment} "
        f"from partner {sender}: load tenders go from the TMS to carriers, so the "
        "hub accepts none from a partner",
    )


def unmapped_location(code: str, sender: str) -> tuple[str, str]:
    """Return the problem for a warehouse code the location mapping lacks."""
    return (
        "unmapped_code",
        f"unmapped X12 location code {code} (partner {sender})",
    )


def not_releasable(st02: str) -> tuple[str, str]:
    """Return the problem for a 940 without a depositor or warehouse."""
    return (
        "invalid_value",
        f"X12 940 ST {st02}: cannot release the order, missing depositor account "
        "(N1*DE N104), warehouse (N1*WH N104)",
    )


@dataclasses.dataclass(frozen=True)
class Row:
    """What one corpus file must give: events by type, problems, warnings."""

    name: str
    interchanges: int
    sets: int
    events: dict[str, int]
    problems: list[tuple[str, str]]
    warnings: list[str]


TABLE = [
    Row(
        "110-oopfactory-fedex-air-invoice.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("110")],
        warnings=["GS 1: GE02 says 24"],
    ),
    Row(
        "204-gtlogistics-multistop.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[load_tender("1000", "123456789", "SENDER")],
        warnings=[],
    ),
    Row(
        "204-stupidedi-1.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[load_tender("13309", "12345678", "SENDER000111111")],
        warnings=[],
    ),
    Row(
        "210-omniparser-ups.edi",
        interchanges=1,
        sets=5,
        events={"freight.invoiced": 4},
        problems=[
            (
                "invalid_envelope",
                "X12 210 ST 000158669 (ISA 000002838): SE01 says 46 segments, found 48",
            ),
        ],
        warnings=[],
    ),
    Row(
        "210-oopfactory-cn-rail-1.edi",
        interchanges=1,
        sets=1,
        events={"freight.invoiced": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "210-oopfactory-cn-rail-2.edi",
        interchanges=1,
        sets=1,
        events={"freight.invoiced": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "210-oopfactory-dbschenker-dot-terminator.edi",
        interchanges=1,
        sets=1,
        events={"freight.invoiced": 1},
        problems=[],
        warnings=["GS 1: GE02 says 24"],
    ),
    Row(
        "210-staedi-wrapped-80col.edi",
        interchanges=1,
        sets=1,
        events={"freight.invoiced": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "214-omniparser-canadapost.edi",
        interchanges=1,
        sets=19,
        events={
            "shipment.milestone": 13,
            "shipment.exception": 5,
            "shipment.delivered": 1,
        },
        problems=[],
        warnings=[],
    ),
    Row(
        "214-staedi-ellipsis-terminator.edi",
        interchanges=1,
        sets=1,
        events={"shipment.milestone": 2},
        problems=[],
        warnings=[],
    ),
    Row(
        "310-x12types-ocean-bl-control-mismatch.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[
            (
                "invalid_envelope",
                "X12 310 ST 35353 (ISA 000011566): SE01 says 49 segments, found 46",
            ),
            ("invalid_envelope", "X12 310 ST 35353 (ISA 000011566): SE02 says 32353"),
        ],
        warnings=["GS 61716: GE02 says 61916", "ISA 000011566: IEA02 says 000061216"],
    ),
    Row(
        "315-x12types-ocean-status.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("315")],
        warnings=[],
    ),
    Row(
        "322-oopfactory-bnsf-cr-terminator.edi",
        interchanges=1,
        sets=17,
        events={},
        problems=[not_yet("322")],
        warnings=[],
    ),
    Row(
        "810-850-staedi-dual-groups.edi",
        interchanges=1,
        sets=3,
        events={},
        problems=[not_yet("810"), not_yet("850")],
        warnings=[],
    ),
    Row(
        "810-oopfactory-walmart-newline.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("810")],
        warnings=[],
    ),
    Row(
        "810-stupidedi-pipe-separator.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("810")],
        warnings=[],
    ),
    Row(
        "846-oopfactory-broken-terminators.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[
            (
                "unmapped_code",
                "unmapped X12 location code 999999999 (the interchange sender, "
                "as no N1*WH or N1*ST names one)",
            )
        ],
        warnings=[],
    ),
    Row(
        "846-oopfactory-tilde-elements.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[unmapped_location("SAN003", "322341109")],
        warnings=[],
    ),
    Row(
        "850-bots-004030-nak-terminator.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("850")],
        warnings=[],
    ),
    Row(
        "850-bots-ebcdic.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("850")],
        warnings=[],
    ),
    Row(
        "850-nodex12-1.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("850")],
        warnings=[],
    ),
    Row(
        "850-nodex12-masked.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("850")],
        warnings=[],
    ),
    Row(
        "850-nodex12-newline-terminated.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("850")],
        warnings=[],
    ),
    Row(
        "850-oopfactory-contact.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("850")],
        warnings=[],
    ),
    Row(
        "850-oopfactory-pipe-terminator.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("850")],
        warnings=[],
    ),
    Row(
        "856-bots-sscc-pack.edi",
        interchanges=1,
        sets=1,
        events={"shipment.packed": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "856-nodex12-004060.edi",
        interchanges=1,
        sets=1,
        events={"shipment.packed": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "856-oopfactory-003060.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[("invalid_value", "X12 856 ST 0001: BSN02 shipment id is empty")],
        warnings=[],
    ),
    Row(
        "856-oopfactory-ellipsis-terminator.edi",
        interchanges=1,
        sets=1,
        events={"shipment.packed": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "856-oopfactory-pack-level.edi",
        interchanges=1,
        sets=1,
        events={"shipment.packed": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "856-oopfactory-retail.edi",
        interchanges=1,
        sets=1,
        events={"shipment.packed": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "856-oopfactory-tilde-elements-backtick.edi",
        interchanges=1,
        sets=1,
        events={"shipment.packed": 1},
        problems=[],
        warnings=[],
    ),
    Row(
        "856-stupidedi-002001-bang-terminator.edi",
        interchanges=1,
        sets=2,
        events={},
        problems=[
            ("invalid_value", "X12 856 ST 0001: no order number (PRF01)"),
            ("invalid_value", "X12 856 ST 0002: no order number (PRF01)"),
        ],
        warnings=[],
    ),
    Row(
        "856-stupidedi-dollar-terminator.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[
            (
                "invalid_envelope",
                "X12 856 ST 0000001 (ISA 000000089): SE01 says 25 segments, found 22",
            )
        ],
        warnings=[],
    ),
    Row(
        "940-ediengine-gs-agency-T.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[unmapped_location("0000000000140", "ABCDEFGHIJKLMNO")],
        warnings=[],
    ),
    Row(
        "940-ediengine-multi-interchange.edi",
        interchanges=2,
        sets=6,
        events={},
        # Six sets, but the same two control numbers: one reason each.
        problems=[not_releasable("0001"), not_releasable("0002")],
        warnings=[],
    ),
    Row(
        "940-oopfactory-simplot.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[unmapped_location("708090", "UP")],
        warnings=[
            "GS 177818711: GE02 says 940001777",
            "ISA 398161180: IEA02 says 940001777",
        ],
    ),
    Row(
        "943-stupidedi-1.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[not_yet("943")],
        warnings=[],
    ),
    Row(
        "944-nodex12edi-lots.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[unmapped_location("PC1234", "1114315990")],
        warnings=[],
    ),
    Row(
        "944-stupidedi-1.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[unmapped_location("1234567890001", "SENDER")],
        warnings=[],
    ),
    Row(
        "945-oopfactory-5010.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[
            (
                "invalid_value",
                "X12 945 ST 0003100001: W0602 depositor order number is empty",
            )
        ],
        warnings=["GS 20021104: GE02 says 31"],
    ),
    Row(
        "990-nodex12edi-accept-decline-counter.edi",
        interchanges=1,
        sets=3,
        events={"shipment.milestone": 1, "shipment.exception": 2},
        problems=[],
        warnings=[],
    ),
    Row(
        "invalid-ediengine-940-bad-se-count.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[
            (
                "invalid_envelope",
                "X12 940 ST 20066 (ISA 000009221): SE01 says 12 segments, found 9",
            )
        ],
        warnings=[],
    ),
    Row(
        "invalid-ediengine-control-mismatch.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[
            ("invalid_envelope", "X12 940 ST 0001 (ISA 000003438): SE02 says 0002")
        ],
        warnings=["GS 3314: GE02 says 3315", "ISA 000003438: IEA02 says 000003439"],
    ),
    Row(
        "invalid-gtlogistics-se-count.edi",
        interchanges=1,
        sets=1,
        events={},
        problems=[
            (
                "invalid_envelope",
                "X12 204 ST 1000 (ISA 000011111): SE01 says 3 segments, found 2",
            )
        ],
        warnings=[],
    ),
    Row(
        "invalid-gtlogistics-trimmed-isa.edi",
        interchanges=1,
        sets=0,
        events={},
        problems=[("invalid_envelope", "ISA 000011111: no transaction set")],
        warnings=["ISA 000011111: no IEA trailer"],
    ),
]


def _parse(raw: bytes):
    tables = {(category, SOURCE): t for category, t in codes.DEFAULT_TABLES.items()}
    return parse_x12_file(raw, source=SOURCE, lookup=static_lookup(tables))


def test_table_covers_every_corpus_file(corpus):
    present = sorted(path.name for path in (corpus / "x12").iterdir())

    assert sorted(row.name for row in TABLE) == present


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_corpus_file_gives_its_expected_outcome(corpus, row):
    raw = (corpus / "x12" / row.name).read_bytes()

    interchanges = parse_interchanges(raw)
    result = _parse(raw)

    assert len(interchanges) == row.interchanges
    assert sum(len(i.transaction_sets) for i in interchanges) == row.sets
    assert [w for i in interchanges for w in i.warnings] == row.warnings
    assert [(p.code, p.reason) for p in result.problems] == row.problems
    assert Counter(event.type for event in result.events) == row.events


def test_canada_post_214_gives_one_event_per_status_in_utc(corpus):
    raw = (corpus / "x12" / "214-omniparser-canadapost.edi").read_bytes()

    result = _parse(raw)

    # Padded B10 references come through stripped; an empty time code is
    # read at the MS1 location (Ontario); CS is standard time, PT/MT follow
    # daylight time, which ended on 3 November 2019 at 02:00.
    assert [
        (
            event.subject,
            event.type,
            event.data["external_code"],
            event.data["status"],
            event.data["reason_code"],
            event.data["occurred_at"],
            event.data["tz_source"],
        )
        for event in result.events
    ] == [
        ("4343638097845589", "shipment.milestone", "XB", "carrier_assigned", None, "2019-11-03T20:34:00+00:00", "location"),
        ("4343638098050296", "shipment.exception", "AH", "delivery_attempted", "consignee", "2019-11-02T23:25:00+00:00", "payload"),
        ("4343638931638575", "shipment.exception", "CA", "cancelled", "other", "2019-11-03T00:52:00+00:00", "payload"),
        ("4343638098146166", "shipment.delivered", "D1", "delivered", None, "2019-11-02T22:48:00+00:00", "payload"),
        ("4343638098181877", "shipment.milestone", "AF", "picked_up", None, "2019-11-03T21:09:00+00:00", "payload"),
        ("4343638098181891", "shipment.milestone", "AF", "picked_up", None, "2019-11-03T21:09:00+00:00", "payload"),
        ("4343638098181921", "shipment.milestone", "XB", "carrier_assigned", None, "2019-11-03T17:31:00+00:00", "payload"),
        ("4343638098186995", "shipment.milestone", "AF", "picked_up", None, "2019-11-03T21:09:00+00:00", "payload"),
        ("4343638151403540", "shipment.milestone", "AF", "picked_up", None, "2019-11-03T18:25:00+00:00", "payload"),
        ("4343638151403540", "shipment.milestone", "XB", "carrier_assigned", None, "2019-11-03T15:53:00+00:00", "payload"),
        ("4343638316026577", "shipment.milestone", "AF", "picked_up", None, "2019-11-03T15:37:00+00:00", "payload"),
        ("4343638316026577", "shipment.exception", "AP", "delivery_attempted", "consignee", "2019-11-03T15:15:00+00:00", "payload"),
        ("4343638316026577", "shipment.milestone", "AF", "picked_up", None, "2019-11-02T22:55:00+00:00", "payload"),
        ("4343638672340607", "shipment.exception", "AP", "delivery_attempted", "consignee", "2019-11-03T13:33:00+00:00", "payload"),
        ("4343638098171441", "shipment.milestone", "XB", "carrier_assigned", None, "2019-11-03T16:04:00+00:00", "payload"),
        ("4343638098171472", "shipment.milestone", "AF", "picked_up", None, "2019-11-03T21:09:00+00:00", "payload"),
        ("4343638098176088", "shipment.exception", "AP", "delivery_attempted", "consignee", "2019-11-03T12:31:00+00:00", "payload"),
        ("4343638458862606", "shipment.milestone", "XB", "carrier_assigned", None, "2019-11-03T22:28:00+00:00", "payload"),
        ("4343638098196574", "shipment.milestone", "XB", "carrier_assigned", None, "2019-11-03T21:18:00+00:00", "payload"),
    ]  # fmt: skip
    assert result.events[0].data["consignee"] == {
        "name": "The Rock",
        "city": "HAMMER",
        "state": "AB",
        "postal_code": "T0C1Z0",
        "country": "CA",
    }


def test_ellipsis_214_keeps_its_out_of_order_estimate_and_pickup(corpus):
    raw = (corpus / "x12" / "214-staedi-ellipsis-terminator.edi").read_bytes()

    result = _parse(raw)

    assert [(event.id, event.type, event.data["kind"]) for event in result.events] == [
        ("XXXX/000075776-75776-757760001-1", "shipment.milestone", "estimated"),
        ("XXXX/000075776-75776-757760001-2", "shipment.milestone", "actual"),
    ]
    assert result.events[0].data["eta"] == "2020-09-11T15:59:00+00:00"
    assert result.events[1].data["occurred_at"] == "2020-09-10T15:35:00+00:00"


@pytest.mark.parametrize(
    ("name", "order", "shipment", "ship_from", "ssccs", "first_line", "line_count"),
    [
        (
            "856-bots-sscc-pack.edi",
            "ordernumber",
            "15918861602",
            None,
            ["123456781234567892", "123456781234567891", "123456781234567890"],
            {"line_number": 4, "sku": "01113481", "quantity": "11", "unit": "EA"},
            58,
        ),
        (
            "856-nodex12-004060.edi",
            "99999817",
            "829716",
            "1 EDI SOURCE",
            [],
            {"line_number": 1, "sku": "87787D", "quantity": "24", "unit": "EA"},
            2,
        ),
        (
            "856-oopfactory-ellipsis-terminator.edi",
            "5500005194",
            "146940",
            "1002300",
            [],
            {
                "line_number": 30,
                "sku": "000 260 056 524",
                "quantity": "1596",
                "unit": "EA",
            },
            3,
        ),
        (
            "856-oopfactory-retail.edi",
            "PO NUMBER",
            "DELIVERYNUMBER",
            None,
            [],
            {"line_number": 1, "sku": "100014544", "quantity": "10", "unit": "EA"},
            7,
        ),
        (
            "856-oopfactory-tilde-elements-backtick.edi",
            "123456",
            "123456",
            "ACME ELECT00",
            [],
            {"line_number": 1, "sku": "1234-123456", "quantity": "16", "unit": "EA"},
            3,
        ),
    ],
)
def test_corpus_856_gives_its_order_packs_and_lines(
    corpus, name, order, shipment, ship_from, ssccs, first_line, line_count
):
    raw = (corpus / "x12" / name).read_bytes()

    [event] = _parse(raw).events

    assert (event.type, event.subject, event.correlationid) == (
        "shipment.packed",
        shipment,
        order,
    )
    assert event.data["ship_from"] == ship_from
    assert [package["sscc"] for package in event.data["packages"]] == ssccs
    assert event.data["lines"][0] == first_line
    assert len(event.data["lines"]) == line_count


def test_pack_level_856_gives_its_lone_carton_the_shipment_weight(corpus):
    raw = (corpus / "x12" / "856-oopfactory-pack-level.edi").read_bytes()

    [event] = _parse(raw).events

    # TD1 says 1 LB for the shipment; 0.45359237 kg rounds half-up to 0.454.
    assert event.data["packages"] == [
        {
            "sscc": "007121610006156802",
            "weight_kg": "0.454",
            "length_cm": None,
            "width_cm": None,
            "height_cm": None,
        }
    ]


def test_same_850_with_two_terminators_gives_the_same_segments(corpus):
    tilde, newline = (
        parse_interchanges((corpus / "x12" / name).read_bytes())
        for name in ("850-nodex12-1.edi", "850-nodex12-newline-terminated.edi")
    )

    assert [ts.segments for ts in tilde[0].transaction_sets] == [
        ts.segments for ts in newline[0].transaction_sets
    ]


def _parse_with_locations(raw: bytes, locations: dict[str, str]):
    tables = {(category, SOURCE): t for category, t in codes.DEFAULT_TABLES.items()}
    tables[("location", SOURCE)] = locations
    return parse_x12_file(raw, source=SOURCE, lookup=static_lookup(tables))


@pytest.mark.parametrize(
    ("name", "invoices"),
    [
        (
            "210-omniparser-ups.edi",
            [
                ("0000001502WW308", "UPSN", None, "94.15", "USD", 19),
                ("0000004045WW308", "UPSN", None, "285.55", "USD", 23),
                ("0000002063WW308", "UPSN", None, "1056.47", "USD", 60),
                ("0000004469WW318", "UPSN", None, "21642.90", "CAD", 102),
            ],
        ),
        (
            "210-oopfactory-cn-rail-1.edi",
            [("28066945", "CNRU", "291226", "2754.33", "USD", 2)],
        ),
        (
            "210-oopfactory-cn-rail-2.edi",
            [("28061234", "CNRU", "102141", "2083.60", "CAD", 3)],
        ),
        (
            "210-oopfactory-dbschenker-dot-terminator.edi",
            [("210028835", "SIFF", "084125T1", "46.40", None, 2)],
        ),
        (
            "210-staedi-wrapped-80col.edi",
            [("699751522", "DDDD", "134982", "124.17", None, 3)],
        ),
    ],
)
def test_corpus_210_amounts_are_read_as_n2_and_add_up(corpus, name, invoices):
    raw = (corpus / "x12" / name).read_bytes()

    events = _parse(raw).events

    # Every one of these invoices also passes the check that its L1 charges
    # and L305 add up to B307, which a misread N2 element would fail.
    assert [
        (
            event.data["invoice_number"],
            event.data["carrier_scac"],
            event.data["pro_number"],
            event.data["amount"],
            event.data["currency"],
            len(event.data["lines"]),
        )
        for event in events
    ] == invoices


def test_cn_rail_210_keeps_type_r_rates_and_reads_n2_charges(corpus):
    raw = (corpus / "x12" / "210-oopfactory-cn-rail-2.edi").read_bytes()

    [event] = _parse(raw).events

    assert [
        (line["rate"], line["rate_qualifier"], line["charge"], line["charge_code"])
        for line in event.data["lines"]
    ] == [
        ("1705", "PU", "1705.00", None),
        ("0.1980", "PM", "244.33", "ENS"),
        ("0.07", "CT", "134.27", "GST"),
    ]
    assert event.data["bol_number"] == "102141"


def test_broken_terminator_846_is_held_for_the_lines_run_together(corpus):
    raw = (corpus / "x12" / "846-oopfactory-broken-terminators.edi").read_bytes()

    result = _parse_with_locations(raw, {"999999999": "DC-EAST"})

    # "REF~ZZ~ASIAQTY~17~403.32~FT": the third item's on-hand QTY ran into
    # its REF, and "QTY~17~7280~FTCTT~5" swallowed the CTT trailer.
    assert result.events == []
    assert [(p.code, p.reason) for p in result.problems] == [
        (
            "invalid_value",
            "X12 846 ST 0008505 LIN 3 (38496-B): no available (QTY 33) or on-hand "
            "(QTY 17) quantity; QTY qualifiers found: 63",
        ),
        ("unmapped_code", "unmapped X12 unit code FTCTT (partner 999999999)"),
    ]


def test_corpus_990_gives_acceptance_decline_and_counter_proposal(corpus):
    raw = (corpus / "x12" / "990-nodex12edi-accept-decline-counter.edi").read_bytes()

    events = _parse(raw).events

    assert [
        (
            event.type,
            event.subject,
            event.data["status"],
            event.data["carrier_scac"],
            event.data["carrier_reference"],
            event.data["description"],
        )
        for event in events
    ] == [
        ("shipment.milestone", "1055337", "carrier_assigned", "SCAC", "3216547", "Load tender accepted by SCAC"),
        ("shipment.exception", "876818668126-189", "exception", "SCAC", "9876541", "Load tender declined by SCAC (reason EQU)"),
        ("shipment.exception", "2368ADC", "exception", "SCAC", "3216159", "Load tender answered with a counter proposal by SCAC: Will haul for $0.50/mile more"),
    ]  # fmt: skip
    assert {event.data["occurred_at"] for event in events} == {
        "2015-01-20T11:23:00+00:00"
    }


def test_corpus_944_lots_are_one_receipt_whose_lines_match_w14(corpus):
    raw = (corpus / "x12" / "944-nodex12edi-lots.edi").read_bytes()

    [event] = _parse_with_locations(raw, {"PC1234": "DC-EAST"}).events

    assert (event.type, event.subject) == ("inventory.received", "4280")
    assert event.data["reference"] == "0450366097"
    assert [
        (line["sku"], line["quantity"], line["unit"], line["lot"])
        for line in event.data["lines"]
    ] == [("100000154", "120", "CS", f"2241396{n}") for n in range(2, 7)]


def test_corpus_940_with_its_warehouse_mapped_is_an_order_release(corpus):
    raw = (corpus / "x12" / "940-oopfactory-simplot.edi").read_bytes()

    [event] = _parse_with_locations(raw, {"708090": "DC-EAST"}).events

    assert (event.type, event.subject, event.correlationid) == (
        "order.released",
        "01235639",
        "01235639",
    )
    assert event.data == {
        "order_number": "01235639",
        "account_number": "0377912820000",
        "po_number": "3353558",
        "ship_from": "DC-EAST",
        "ship_to": "10126290",
        "requested_date": "2011-01-13",
        "lines": [
            {"line_number": 1, "sku": "007117900989", "quantity": "972", "unit": "CS"},
            {"line_number": 2, "sku": "007117901707", "quantity": "189", "unit": "CS"},
        ],
    }
