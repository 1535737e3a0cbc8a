"""Every shared corpus file outside X12 becomes events or a problem with a reason.

Each file is fed to the connector of the connection it would arrive on, with
the code tables the hub seeds. Carrier files of carriers the hub has a
connector for go to that connector (``carrier-<name>``, DCSA to
``carrier-dcsa``); files of carriers it has none for, and the EPCIS
documents, arrive on a generic carrier connection; CloudEvents documents arrive on a hub connection (the TMS), which
reads CloudEvents; EDIFACT comes through the EDIFACT file drop. X12 is
covered in test_x12_corpus.py.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.carrier.mapping import parse_carrier_webhook
from integrations.connectors.edifact.mapping import parse_edifact_file
from integrations.connectors.hub.mapping import parse_webhook
from integrations.seeding import _tables

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
FOLDERS = ("carrier-tracking", "edifact", "webhooks", "standards")
UTC = dt.UTC

if not CORPUS.is_dir():
    pytest.skip(f"the shared corpus is not at {CORPUS}", allow_module_level=True)

LOOKUP = static_lookup(
    {(category, source): table for source, category, table in _tables()}
)

MILESTONE = "shipment.milestone"
DELIVERED = "shipment.delivered"
EXCEPTION = "shipment.exception"
PACKED = "shipment.packed"

NOT_JSON_TRACKING = ("invalid_message", "tracking_number is missing")
NOT_AN_OBJECT = ("invalid_message", "body must be a JSON object")
EPCIS_JSON = (
    "unsupported_document",
    "GS1 EPCIS document is not a document this hub accepts",
)
EPCIS_XML = (
    "unsupported_document",
    "GS1 EPCIS document (XML) is not a document this hub accepts",
)
CE_CONFORMANCE = (
    "invalid_message",
    "missing CloudEvents attribute(s): id, type, subject, time, data",
)
EDIFACT_INVOIC = (
    "unsupported_document",
    "EDIFACT INVOIC (invoice) is not a document this hub accepts",
)
EDIFACT_ORDERS = (
    "unsupported_document",
    "EDIFACT ORDERS (purchase order) is not a document this hub accepts",
)
USPS_NOT_FOUND = (
    "The Postal Service could not locate the tracking information for your "
    "request. Please verify your tracking number and try again later."
)

# file → (connection, event types with counts, problems as (code, reason)).
OUTCOMES: dict[str, tuple[str, dict[str, int], list[tuple[str, str]]]] = {
    "carrier-tracking/aftership-error-pyaftership.json": (
        "carrier-aftership",
        {},
        [
            (
                "invalid_message",
                "AfterShip answered 4003 (BadRequest): Tracking number already exists.",
            )
        ],
    ),
    "carrier-tracking/aftership-get-trackings-pyaftership.json": (
        "carrier-aftership",
        {MILESTONE: 9, EXCEPTION: 1, DELIVERED: 1},
        [],
    ),
    "carrier-tracking/australiapost-track-karrio.json": (
        "carrier-crx",
        {},
        [NOT_JSON_TRACKING],
    ),
    "carrier-tracking/canadapost-track-activeshipping-en.xml": (
        "carrier-canadapost",
        {DELIVERED: 4, MILESTONE: 5, EXCEPTION: 1},
        [],
    ),
    "carrier-tracking/canadapost-track-activeshipping-error.xml": (
        "carrier-canadapost",
        {},
        [("unknown_reference", "Canada Post answered 004: No Pin History")],
    ),
    "carrier-tracking/canadapost-track-activeshipping-fr.xml": (
        "carrier-canadapost",
        {DELIVERED: 4, MILESTONE: 5, EXCEPTION: 1},
        [],
    ),
    "carrier-tracking/dhl-express-mydhl-track-karrio.json": (
        "carrier-dhl",
        {DELIVERED: 1, MILESTONE: 2},
        [],
    ),
    "carrier-tracking/dhl-unified-track-karrio.json": (
        "carrier-dhl",
        {MILESTONE: 1},
        [],
    ),
    "carrier-tracking/easypost-tracker-retrieve.json": (
        "carrier-easypost",
        {MILESTONE: 2},
        [],
    ),
    "carrier-tracking/fedex-track-activeshipping-blank-state-japan.xml": (
        "carrier-fedex",
        {DELIVERED: 1},
        [],
    ),
    "carrier-tracking/fedex-track-activeshipping-delivered-door.xml": (
        "carrier-fedex",
        {DELIVERED: 1, MILESTONE: 9},
        [],
    ),
    "carrier-tracking/fedex-track-activeshipping-delivered-facility.xml": (
        "carrier-fedex",
        {DELIVERED: 1, MILESTONE: 14, EXCEPTION: 4},
        [],
    ),
    "carrier-tracking/fedex-track-activeshipping-delivered-signature.xml": (
        "carrier-fedex",
        {DELIVERED: 1, MILESTONE: 10},
        [],
    ),
    "carrier-tracking/fedex-track-activeshipping-exception.xml": (
        "carrier-fedex",
        {EXCEPTION: 1, MILESTONE: 7},
        [],
    ),
    "carrier-tracking/fedex-track-activeshipping-missing-status.xml": (
        "carrier-fedex",
        {},
        [("invalid_value", "FedEx 123456789012: no scan events and no status code")],
    ),
    "carrier-tracking/fedex-track-activeshipping-multiple-results.xml": (
        "carrier-fedex",
        {},
        [
            (
                "unknown_reference",
                "FedEx tracking number 123456789012 matches 3 shipments "
                "(DuplicateWaybill); choose one by its unique identifier",
            )
        ],
    ),
    "carrier-tracking/fedex-track-karrio.json": (
        "carrier-fedex",
        {MILESTONE: 1},
        [
            (
                "unknown_reference",
                "FedEx 39936862321: Tracking number cannot be found. Please correct "
                "the tracking number and try again.",
            )
        ],
    ),
    "carrier-tracking/gls-track-karrio.json": ("carrier-crx", {}, [NOT_JSON_TRACKING]),
    "carrier-tracking/hermes-track-karrio.json": (
        "carrier-crx",
        {},
        [NOT_JSON_TRACKING],
    ),
    "carrier-tracking/laposte-track-karrio.json": (
        "carrier-crx",
        {},
        [NOT_JSON_TRACKING],
    ),
    "carrier-tracking/seko-track-karrio.json": ("carrier-crx", {}, [NOT_AN_OBJECT]),
    "carrier-tracking/sendle-track-karrio.json": (
        "carrier-crx",
        {},
        [NOT_JSON_TRACKING],
    ),
    "carrier-tracking/shipengine-track-induction.json": (
        "carrier-crx",
        {},
        [("invalid_value", "event 0: code is missing")],
    ),
    "carrier-tracking/smartkargo-air-track-karrio.json": (
        "carrier-crx",
        {},
        [NOT_AN_OBJECT],
    ),
    "carrier-tracking/spring-track-karrio.json": (
        "carrier-crx",
        {},
        [NOT_JSON_TRACKING],
    ),
    "carrier-tracking/stamps-track-activeshipping-soap.xml": (
        "carrier-crx",
        {},
        [
            (
                "unsupported_document",
                "XML document <Envelope> is not a document this hub accepts on "
                "this connection, which reads JSON tracking events",
            )
        ],
    ),
    "carrier-tracking/teleship-track-karrio.json": (
        "carrier-crx",
        {},
        [NOT_JSON_TRACKING],
    ),
    "carrier-tracking/ups-track-karrio.json": (
        "carrier-ups",
        {DELIVERED: 1, MILESTONE: 1},
        [],
    ),
    "carrier-tracking/usps-track-activeshipping-alt.xml": (
        "carrier-usps",
        {MILESTONE: 1},
        [
            (
                "invalid_value",
                "9102901000462189604217 event 1: EventDate/EventTime ' ' "
                "is not a timestamp",
            )
        ],
    ),
    "carrier-tracking/usps-track-activeshipping-batch.xml": (
        "carrier-usps",
        {DELIVERED: 2, MILESTONE: 10},
        [
            ("unknown_reference", f"USPS 9405510ee200828613653750: {USPS_NOT_FOUND}"),
            ("unknown_reference", "USPS CJ422417033US: Duplicate"),
        ],
    ),
    "carrier-tracking/usps-track-activeshipping-delivered.xml": (
        "carrier-usps",
        {DELIVERED: 1, MILESTONE: 9},
        [],
    ),
    "carrier-tracking/usps-track-activeshipping-failure.xml": (
        "carrier-usps",
        {},
        [("unknown_reference", f"USPS 9102901000462189604217: {USPS_NOT_FOUND}")],
    ),
    "carrier-tracking/usps-track-karrio.json": (
        "carrier-usps",
        {DELIVERED: 1, MILESTONE: 11},
        # The second tracking of the sample is the API schema's placeholder.
        [("unmapped_code", "unmapped carrier code string (carrier USPS)")],
    ),
    "edifact/DESADV-bots-eancom-multi.edi": ("edi-edifact", {PACKED: 3}, []),
    "edifact/INVOIC-pydifact-d97a.edi": ("edi-edifact", {}, [EDIFACT_INVOIC]),
    "edifact/INVOIC-pydifact-trailing-component-sep.edi": (
        "edi-edifact",
        {},
        [EDIFACT_INVOIC],
    ),
    "edifact/INVOIC-staedi-d97b-una.edi": ("edi-edifact", {}, [EDIFACT_INVOIC]),
    "edifact/INVOIC-staedi-wrapped-custom-una.edi": (
        "edi-edifact",
        {},
        [EDIFACT_INVOIC],
    ),
    "edifact/ORDERS-oca-eancom-amazon-1.edi": ("edi-edifact", {}, [EDIFACT_ORDERS]),
    "edifact/ORDERS-oca-eancom-placeholder-gln.edi": (
        "edi-edifact",
        {},
        [EDIFACT_ORDERS],
    ),
    "edifact/ORDERS-pydifact-eancom-no-unz.edi": ("edi-edifact", {}, [EDIFACT_ORDERS]),
    "edifact/ORDERS-pydifact-unoc-no-unz.edi": ("edi-edifact", {}, [EDIFACT_ORDERS]),
    "edifact/ORDERS-pydifact-wikipedia-de.edi": ("edi-edifact", {}, [EDIFACT_ORDERS]),
    "edifact/ORDERS-staedi-ung-group.edi": ("edi-edifact", {}, [EDIFACT_ORDERS]),
    "webhooks/easypost-event-retrieve-no-result.json": (
        "carrier-easypost",
        {},
        [
            (
                "invalid_message",
                "EasyPost tracker.created event evt_ad2365c22d1511f0b5364ffbb3e7a1f1 "
                "carries no tracker",
            )
        ],
    ),
    "webhooks/easypost-tracker-updated-event-body.json": (
        "carrier-easypost",
        {MILESTONE: 7},
        [],
    ),
    "webhooks/teleship-webhook-karrio.json": ("carrier-crx", {}, [NOT_JSON_TRACKING]),
    "standards/cloudevents-invalid-events.json": ("tms", {}, [CE_CONFORMANCE]),
    "standards/cloudevents-valid-events.json": ("tms", {}, [CE_CONFORMANCE]),
    "standards/cloudevents-valid-events.xml": (
        "tms",
        {},
        [("invalid_message", "body is not JSON: Expecting value: line 1 column 1")],
    ),
    # DCSA: actual transport and equipment moves become milestones; document
    # steps (SHIPMENT), sensor readings and estimates are left aside.
    "standards/dcsa-tnt-220-response-wrong-attribute-values.json": (
        "carrier-dcsa",
        {},
        [
            (
                "invalid_value",
                "event 0 (no eventID): no transport document, booking or "
                "equipment reference",
            )
        ],
    ),
    "standards/dcsa-tnt-220-response-wrong-date-times.json": ("carrier-dcsa", {}, []),
    "standards/dcsa-tnt-220-response-wrong-event-ids.json": ("carrier-dcsa", {}, []),
    "standards/dcsa-tnt-220-response.json": ("carrier-dcsa", {MILESTONE: 2}, []),
    "standards/dcsa-tnt-300-request-iot.json": ("carrier-dcsa", {}, []),
    "standards/dcsa-tnt-300-request-reefer.json": ("carrier-dcsa", {}, []),
    "standards/dcsa-tnt-300-request-transport.json": (
        "carrier-dcsa",
        {MILESTONE: 1},
        [],
    ),
    "standards/dcsa-tnt-300-response.json": ("carrier-dcsa", {MILESTONE: 2}, []),
    "standards/epcis2-aggregationevent-9.6.3.jsonld": ("carrier-crx", {}, [EPCIS_JSON]),
    "standards/epcis2-association-sensor.xml": ("carrier-crx", {}, [EPCIS_XML]),
    "standards/epcis2-error-declaration-corrective.jsonld": (
        "carrier-crx",
        {},
        [EPCIS_JSON],
    ),
    "standards/epcis2-identical-hash-1.xml": ("carrier-crx", {}, [EPCIS_XML]),
    "standards/epcis2-identical-hash-2.xml": ("carrier-crx", {}, [EPCIS_XML]),
    "standards/epcis2-identical-hash-7.json": ("carrier-crx", {}, [EPCIS_JSON]),
    "standards/epcis2-objectevent-9.6.1.jsonld": ("carrier-crx", {}, [EPCIS_JSON]),
    "standards/epcis2-objectevent-9.6.1.xml": ("carrier-crx", {}, [EPCIS_XML]),
    "standards/epcis2-objectevent-all-fields.jsonld": ("carrier-crx", {}, [EPCIS_JSON]),
    "standards/epcis2-sensordata-1.jsonld": ("carrier-crx", {}, [EPCIS_JSON]),
    "standards/epcis2-transactionevents.jsonld": ("carrier-crx", {}, [EPCIS_JSON]),
}


def _parse(name: str):
    connection = OUTCOMES[name][0]
    body = (CORPUS / name).read_bytes()
    if connection == "edi-edifact":
        return parse_edifact_file(body, source=connection, lookup=LOOKUP)
    if connection == "tms":
        return parse_webhook(body, connection_code=connection, lookup=LOOKUP)
    return parse_carrier_webhook(
        body, source=connection, carrier_scac="", lookup=LOOKUP
    )


def test_every_corpus_file_has_an_outcome():
    on_disk = {
        f"{folder}/{path.name}"
        for folder in FOLDERS
        for path in (CORPUS / folder).iterdir()
        if path.is_file()
    }

    assert on_disk == set(OUTCOMES)


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_corpus_file_becomes_its_events_or_its_problems(name):
    _connection, types, problems = OUTCOMES[name]

    result = _parse(name)

    assert dict(Counter(event.type for event in result.events)) == types
    # Reasons are compared from their start: a parser's own message (JSON's
    # character position) may follow the hub's words.
    assert len(result.problems) == len(problems)
    for problem, (code, reason) in zip(result.problems, problems, strict=True):
        assert problem.code == code
        assert problem.reason.startswith(reason), problem.reason


def _event(name: str, index: int):
    return _parse(name).events[index]


def test_fedex_exception_keeps_its_reason_and_offset():
    event = _event("carrier-tracking/fedex-track-activeshipping-exception.xml", 0)

    assert (event.subject, event.time) == (
        "957794015041323",
        dt.datetime(2014, 1, 28, 23, 43, 8, tzinfo=UTC),
    )
    assert (event.data["external_code"], event.data["reason_code"]) == ("SE", "099")
    assert (event.data["city"], event.data["state"]) == ("FORT WORTH", "TX")


def test_fedex_routine_scan_remark_is_not_an_exception_reason():
    events = _parse("carrier-tracking/fedex-track-activeshipping-delivered-door.xml")

    delivered = events.events[0]
    assert delivered.data["status"] == "delivered"
    assert delivered.data["reason_code"] == ""
    assert delivered.data["signed_by"] == "Signature not required"


def test_fedex_time_without_offset_is_read_where_the_pickup_happened():
    events = _parse("carrier-tracking/fedex-track-activeshipping-delivered-door.xml")

    pickup = events.events[-1]
    assert pickup.data["external_code"] == "PU"
    assert (pickup.data["occurred_at"], pickup.data["tz_source"]) == (
        pickup.time.isoformat(),
        "location",
    )


def test_usps_local_time_is_read_in_the_scan_state():
    event = _event("carrier-tracking/usps-track-activeshipping-delivered.xml", 0)

    assert event.type == DELIVERED
    assert event.time == dt.datetime(2015, 4, 28, 14, 1, tzinfo=UTC)
    assert (event.data["city"], event.data["tz_source"]) == ("HANNA CITY", "location")


def test_canada_post_french_reply_reads_entities_and_zone_abbreviation():
    event = _event("carrier-tracking/canadapost-track-activeshipping-fr.xml", 0)

    assert event.data["description"] == "Article livré avec succès"
    assert event.time == dt.datetime(2011, 2, 3, 16, 59, 59, tzinfo=UTC)
    assert event.data["tz_source"] == "payload"


def test_canada_post_english_and_french_replies_give_the_same_events():
    english = _parse("carrier-tracking/canadapost-track-activeshipping-en.xml")
    french = _parse("carrier-tracking/canadapost-track-activeshipping-fr.xml")

    assert [e.id for e in english.events] == [e.id for e in french.events]


def test_easypost_webhook_reads_the_tracker_in_its_result():
    events = _parse("webhooks/easypost-tracker-updated-event-body.json").events

    assert [e.data["status"] for e in events] == [
        "carrier_assigned",
        *["in_transit"] * 6,
    ]
    assert events[-1].data["city"] == "EDISON"


def test_desadv_messages_become_packs_with_sscc_and_lines():
    events = _parse("edifact/DESADV-bots-eancom-multi.edi").events

    assert [(e.id, e.subject, e.correlationid) for e in events] == [
        ("5555555555555/1-7", "1923", "ref1234"),
        ("5555555555555/1-8", "DOCNUM", "BYORDNUM"),
        ("5555555555555/1-10", "DOCNUM", "BYORDNUM"),
    ]
    second = events[1].data
    assert len(second["packages"]) == 4
    assert second["packages"][0] == {
        "sscc": "354123450000000014",
        "weight_kg": "123",
        "length_cm": "12300",
        "width_cm": "12300",
        "height_cm": "12300",
    }
    assert events[0].data["lines"] == [
        {"line_number": 1, "sku": "8717755680019", "quantity": "48", "unit": None},
        {"line_number": 2, "sku": "8717755620071", "quantity": "192", "unit": None},
    ]


def test_dhl_status_code_wins_over_its_contradicting_text():
    event = _event("carrier-tracking/dhl-unified-track-karrio.json", 0)

    assert (event.subject, event.data["status"]) == ("7777777770", "carrier_assigned")
    assert (event.data["external_code"], event.data["description"]) == (
        "pre-transit",
        "DELIVERED",
    )
    # A local time in Amsterdam, read in the Netherlands' zone (CET in March).
    assert event.time == dt.datetime(2018, 3, 2, 6, 53, 47, tzinfo=UTC)


def test_mydhl_express_times_use_their_gmt_offset_and_keep_the_signature():
    events = _parse("carrier-tracking/dhl-express-mydhl-track-karrio.json").events

    assert [(e.data["external_code"], e.time) for e in events] == [
        ("OK", dt.datetime(2024, 11, 7, 18, 0, tzinfo=UTC)),
        ("PL", dt.datetime(2024, 11, 7, 12, 0, tzinfo=UTC)),
        ("PU", dt.datetime(2024, 11, 5, 9, 0, tzinfo=UTC)),
    ]
    assert events[0].data["signed_by"] == "J. Smith"


def test_usps_json_gmt_timestamp_wins_over_local_time():
    event = _event("carrier-tracking/usps-track-karrio.json", 0)

    assert event.subject == "9400109104250532908587"
    assert event.time == dt.datetime(2024, 11, 22, 18, 58, 40, tzinfo=UTC)
    assert event.data["tz_source"] == "payload"


def test_aftership_checkpoints_map_by_tag_with_their_offsets():
    events = _parse("carrier-tracking/aftership-get-trackings-pyaftership.json").events

    assert {e.subject for e in events} == {"1111111111111"}
    assert (events[4].data["external_code"], events[4].data["status"]) == (
        "Exception",
        "exception",
    )
    assert events[-1].time == dt.datetime(2018, 8, 1, 17, 19, 47, tzinfo=UTC)


def test_dcsa_actual_moves_are_keyed_to_the_bill_of_lading_or_container():
    old = _parse("standards/dcsa-tnt-220-response.json").events
    new = _parse("standards/dcsa-tnt-300-response.json").events

    assert [(e.id, e.data["external_code"], e.time) for e in old] == [
        (
            "reserved-HHL123:3cecb101-7a1a-43a4-9d62-e88a131651e2",
            "TRANSPORT.ARRI",
            dt.datetime(2021, 1, 9, 13, 12, 56, tzinfo=UTC),
        ),
        (
            "reserved-HHL123:3cecb101-7a1a-43a4-9d62-e88a131651e5",
            "TRANSPORT.ARRI",
            dt.datetime(2021, 1, 9, 13, 12, 56, tzinfo=UTC),
        ),
    ]
    assert [(e.subject, e.data["external_code"], e.data["city"]) for e in new] == [
        ("HHL71800000", "TRANSPORT.DEPA", "GBSOU"),
        ("APZU4812090", "EQUIPMENT.GTIN", "FRPAR"),
    ]
    assert {e.data["status"] for e in old + new} == {"in_transit"}


def test_dcsa_events_on_another_carrier_connection_are_sent_to_their_own():
    body = (CORPUS / "standards" / "dcsa-tnt-300-response.json").read_bytes()

    result = parse_carrier_webhook(
        body, source="carrier-crx", carrier_scac="CRX", lookup=LOOKUP
    )

    assert [(p.code, p.reason) for p in result.problems] == [
        (
            "unsupported_document",
            "DCSA Track & Trace 3 events are read on a DCSA connection "
            "(carrier-dcsa), not on this one",
        )
    ]
