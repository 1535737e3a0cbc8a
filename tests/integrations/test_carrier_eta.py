"""Carrier estimated deliveries become ``eta``/``eta_date`` on canonical events.

Each corpus file that carries an estimate is mapped by its carrier's
connector with the code tables the hub seeds. Most of them describe a
shipment that is already delivered, and a delivered tracking number carries
no estimate; those files are also mapped as they stood before delivery,
with their delivery scans taken out.
"""

from __future__ import annotations

import datetime as dt
import json
from xml.etree.ElementTree import tostring

import pytest
from defusedxml.ElementTree import fromstring

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.carrier.mapping import parse_carrier_webhook
from integrations.connectors.carrier.xml import local
from integrations.errors import EventRejected
from integrations.events import EventType
from integrations.seeding import _tables
from integrations.validation import event_data_validate
from shipments.models import EtaRevision, Shipment
from tests.integrations.helpers import deliver
from tests.integrations.shipping import shipment_in_flight

LOOKUP = static_lookup(
    {(category, source): table for source, category, table in _tables()}
)
DELIVERED = EventType.SHIPMENT_DELIVERED


def _map(body: bytes, connection: str):
    return parse_carrier_webhook(
        body, source=connection, carrier_scac="", lookup=LOOKUP
    )


def _estimates(result) -> dict[str, set[tuple[str, str | None]]]:
    """Return, per tracking number, the estimate keys its events carry."""
    found: dict[str, set[tuple[str, str | None]]] = {}
    for event in result.events:
        keys = {key: event.data.get(key) for key in ("eta", "eta_date")}
        found.setdefault(event.subject, set()).update(keys.items())
    return found


def _delivered_codes(result) -> set[str]:
    return {
        event.data["external_code"]
        for event in result.events
        if event.type == DELIVERED
    }


def _without_xml_scans(body: bytes, codes: set[str]) -> bytes:
    """Remove the XML scans (USPS, Canada Post) whose code is in ``codes``."""
    root = fromstring(body.lstrip())
    for parent in list(root.iter()):
        for item in list(parent):
            if any(
                local(field) in ("EventCode", "event-identifier")
                and (field.text or "").strip() in codes
                for field in item
            ):
                parent.remove(item)
    return tostring(root)


# --- Files whose tracking number is still on its way -----------------------------


@pytest.mark.parametrize(
    ("name", "connection", "number", "expected"),
    [
        (
            "carrier-tracking/dhl-unified-track-karrio.json",
            "carrier-dhl",
            "7777777770",
            ("eta", "2018-08-03T00:00:00+00:00"),
        ),
        (
            "carrier-tracking/easypost-tracker-retrieve.json",
            "carrier-easypost",
            "EZ1000000001",
            ("eta", "2025-05-09T20:40:17+00:00"),
        ),
        # est_delivery_date is midnight UTC, the evening before in New York;
        # the carrier's local date is the estimate.
        (
            "webhooks/easypost-tracker-updated-event-body.json",
            "carrier-easypost",
            "1",
            ("eta_date", "2024-08-05"),
        ),
        # The end of estimatedDeliveryTimeWindow, with the offset FedEx gave.
        (
            "carrier-tracking/fedex-track-karrio.json",
            "carrier-fedex",
            "123456789012",
            ("eta", "2021-10-15T00:00:00-06:00"),
        ),
    ],
)
def test_in_transit_corpus_file_puts_its_estimate_on_every_event(
    corpus, name, connection, number, expected
):
    result = _map((corpus / name).read_bytes(), connection)

    other = "eta_date" if expected[0] == "eta" else "eta"
    assert result.events
    assert _estimates(result) == {number: {expected, (other, None)}}


# --- Files whose tracking number is delivered ------------------------------------


@pytest.mark.parametrize(
    ("name", "connection", "number", "expected"),
    [
        # changed-expected-date wins over the first expected-delivery-date.
        (
            "carrier-tracking/canadapost-track-activeshipping-en.xml",
            "carrier-canadapost",
            "1371134583769923",
            ("eta_date", "2011-02-11"),
        ),
        (
            "carrier-tracking/canadapost-track-activeshipping-fr.xml",
            "carrier-canadapost",
            "1371134583769923",
            ("eta_date", "2011-02-11"),
        ),
        (
            "carrier-tracking/usps-track-activeshipping-delivered.xml",
            "carrier-usps",
            "9102901000462189604217",
            ("eta_date", "2015-04-28"),
        ),
    ],
)
def test_delivered_xml_file_carries_no_estimate_but_did_before_delivery(
    corpus, name, connection, number, expected
):
    body = (corpus / name).read_bytes()
    delivered = _map(body, connection)
    before = _map(_without_xml_scans(body, _delivered_codes(delivered)), connection)

    assert _delivered_codes(delivered)
    assert _estimates(delivered) == {number: {("eta", None), ("eta_date", None)}}
    assert before.events
    assert DELIVERED not in {event.type for event in before.events}
    assert _estimates(before) == {number: {expected, ("eta", None)}}


def test_usps_batch_estimate_belongs_to_each_tracking_number(corpus):
    body = (
        corpus / "carrier-tracking/usps-track-activeshipping-batch.xml"
    ).read_bytes()
    delivered = _map(body, "carrier-usps")
    before = _map(_without_xml_scans(body, {"01"}), "carrier-usps")

    none = {("eta", None), ("eta_date", None)}
    in_transit = {("eta_date", "2015-04-28"), ("eta", None)}
    assert _estimates(delivered) == {
        "9102901000462189604217": none,
        "5555555555555555555555": none,
    }
    assert _estimates(before) == {
        "9102901000462189604217": in_transit,
        "5555555555555555555555": in_transit,
    }


def test_dhl_express_local_estimate_is_read_at_the_receiver(corpus):
    path = corpus / "carrier-tracking/dhl-express-mydhl-track-karrio.json"
    document = json.loads(path.read_bytes())
    delivered = _map(path.read_bytes(), "carrier-dhl")
    for shipment in document["shipments"]:
        shipment["events"] = [
            event for event in shipment["events"] if event["typeCode"] != "OK"
        ]
    before = _map(json.dumps(document).encode(), "carrier-dhl")

    assert _delivered_codes(delivered) == {"OK"}
    assert _estimates(delivered) == {"1234567890": {("eta", None), ("eta_date", None)}}
    # 18:00 in New York on 7 November 2024 (EST, UTC-5).
    assert _estimates(before) == {
        "1234567890": {("eta", "2024-11-07T23:00:00+00:00"), ("eta_date", None)}
    }


def test_usps_v3_prediction_wins_over_the_expectation(corpus):
    path = corpus / "carrier-tracking/usps-track-karrio.json"
    trackings = json.loads(path.read_bytes())
    # The schema sample's placeholder code, replaced by a code USPS sends.
    trackings[1]["trackingEvents"][0]["eventCode"] = "OF"
    trackings[1]["predictedDeliveryTimeStamp"] = "2019-08-25T17:00:00-04:00"

    result = _map(json.dumps(trackings).encode(), "carrier-usps")

    assert _estimates(result) == {
        "9400109104250532908587": {("eta", None), ("eta_date", None)},
        "string": {("eta", "2019-08-25T17:00:00-04:00"), ("eta_date", None)},
    }


def test_ups_delivered_date_is_not_an_estimate_and_a_scheduled_date_is(corpus):
    path = corpus / "carrier-tracking/ups-track-karrio.json"
    document = json.loads(path.read_bytes())
    package = document["trackResponse"]["shipment"][0]["package"][0]
    package["activity"] = [
        item for item in package["activity"] if item["status"]["type"] != "D"
    ]
    only_delivered_date = _map(json.dumps(document).encode(), "carrier-ups")
    package["deliveryDate"] += [
        {"type": "SDD", "date": "20220127"},
        {"type": "RDD", "date": "20220128"},
    ]
    rescheduled = _map(json.dumps(document).encode(), "carrier-ups")

    number = "1Z1442YY7229014688"
    assert package["deliveryDate"][0] == {"type": "DEL", "date": "20220126"}
    assert _estimates(only_delivered_date) == {
        number: {("eta", None), ("eta_date", None)}
    }
    assert _estimates(rescheduled) == {
        number: {("eta_date", "2022-01-28"), ("eta", None)}
    }


def test_fedex_xml_estimate_is_read_at_the_destination(corpus):
    path = corpus / "carrier-tracking/fedex-track-activeshipping-exception.xml"
    body = path.read_bytes().replace(
        b"<DestinationAddress>",
        b"<EstimatedDeliveryTimestamp>2014-01-30T12:00:00</EstimatedDeliveryTimestamp>"
        b"<DestinationAddress>",
        1,
    )

    result = _map(body, "carrier-fedex")

    # Noon in Goose Creek, South Carolina (EST, UTC-5).
    assert {event.data.get("eta") for event in result.events} == {
        "2014-01-30T17:00:00+00:00"
    }


def test_corpus_files_without_an_estimate_map_none(corpus):
    names = [
        (
            "carrier-tracking/aftership-get-trackings-pyaftership.json",
            "carrier-aftership",
        ),
        ("carrier-tracking/fedex-track-activeshipping-exception.xml", "carrier-fedex"),
        ("standards/dcsa-tnt-220-response.json", "carrier-dcsa"),
        ("standards/dcsa-tnt-300-response.json", "carrier-dcsa"),
    ]
    for name, connection in names:
        result = _map((corpus / name).read_bytes(), connection)

        assert result.events, name
        assert {
            (event.data.get("eta"), event.data.get("eta_date"))
            for event in result.events
        } == {(None, None)}, name


@pytest.mark.parametrize(
    ("expected_delivery", "country", "expected"),
    [
        ("2018-08-05", "USA", ("eta_date", "2018-08-05")),
        ("2018-08-05T10:00:00+02:00", "USA", ("eta", "2018-08-05T10:00:00+02:00")),
        # A local time in a country of one zone is read there ...
        ("2018-08-05T10:00:00", "DEU", ("eta", "2018-08-05T08:00:00+00:00")),
        # ... and in one of several zones keeps only its date.
        ("2018-08-05T10:00:00", "USA", ("eta_date", "2018-08-05")),
    ],
)
def test_aftership_expected_delivery_keeps_what_it_knows(
    corpus, expected_delivery, country, expected
):
    path = corpus / "carrier-tracking/aftership-get-trackings-pyaftership.json"
    document = json.loads(path.read_bytes())
    tracking = document["data"]["trackings"][0]
    tracking["checkpoints"] = [
        item for item in tracking["checkpoints"] if item["tag"] != "Delivered"
    ]
    tracking["expected_delivery"] = expected_delivery
    tracking["destination_country_iso3"] = country

    result = _map(json.dumps(document).encode(), "carrier-aftership")

    number = tracking["tracking_number"]
    assert {
        (event.data.get("eta"), event.data.get("eta_date"))
        for event in result.events
        if event.subject == number
    } == {(expected[1], None) if expected[0] == "eta" else (None, expected[1])}


# --- Validation ---------------------------------------------------------------


def _milestone(**estimate: object) -> dict:
    return {"tracking_number": "1", "status": "in_transit", **estimate}


@pytest.mark.parametrize(
    "estimate",
    [
        {"eta": "2024-08-05T10:00:00-04:00"},
        {"eta_date": "2024-08-05"},
        {"eta": "", "eta_date": None},
    ],
)
def test_milestone_with_a_readable_estimate_passes(estimate):
    event_data_validate(type=EventType.SHIPMENT_MILESTONE, data=_milestone(**estimate))


@pytest.mark.parametrize(
    ("estimate", "reason"),
    [
        ({"eta": "2024-08-05T10:00:00"}, "eta '2024-08-05T10:00:00' has no offset"),
        ({"eta": "next Tuesday"}, "eta 'next Tuesday' is not a timestamp"),
        ({"eta": 20240805}, "eta 20240805 is not a timestamp"),
        ({"eta_date": "2024-08-32"}, "eta_date '2024-08-32' is not a date"),
    ],
)
def test_milestone_with_an_unreadable_estimate_is_refused(estimate, reason):
    with pytest.raises(EventRejected) as caught:
        event_data_validate(
            type=EventType.SHIPMENT_EXCEPTION, data=_milestone(**estimate)
        )

    assert (caught.value.code, caught.value.reason) == ("invalid_value", reason)


# --- End to end ------------------------------------------------------------------


@pytest.mark.django_db
def test_carrier_tracking_message_revises_the_shipment_eta(seeded, corpus):
    shipment = shipment_in_flight("SH-ETA1", tracking="1", status="in_transit")
    shipment.eta = dt.datetime(2024, 8, 3, 17, 0, tzinfo=dt.UTC)
    shipment.save(update_fields=["eta"])
    EtaRevision.objects.create(shipment=shipment, eta=shipment.eta, source="tms")
    body = (corpus / "webhooks/easypost-tracker-updated-event-body.json").read_bytes()

    message = deliver("carrier-easypost", body)
    deliver("carrier-easypost", body)

    shipment = Shipment.objects.get(pk=shipment.pk)
    assert message.state == "processed"
    assert (shipment.eta, shipment.eta_date) == (None, dt.date(2024, 8, 5))
    assert list(shipment.eta_revisions.values_list("eta", "eta_date", "source")) == [
        (dt.datetime(2024, 8, 3, 17, 0, tzinfo=dt.UTC), None, "tms"),
        (None, dt.date(2024, 8, 5), "carrier-easypost"),
    ]
