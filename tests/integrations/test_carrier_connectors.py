"""Carrier connectors: choosing the mapping, safe XML, XML over the inbound door, clients."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.test import Client

from integrations import signing
from integrations.connectors.carrier import codes
from integrations.connectors.carrier.aftership import client as aftership_client
from integrations.connectors.carrier.canadapost import client as canadapost_client
from integrations.connectors.carrier.dhl import client as dhl_client
from integrations.connectors.carrier.dhl import mapping as dhl
from integrations.connectors.carrier.easypost import client as easypost_client
from integrations.connectors.carrier.fedex import client as fedex_client
from integrations.connectors.carrier.fedex import mapping as fedex
from integrations.connectors.carrier.mapping import (
    carrier_parser_for,
    parse_carrier_webhook,
    parse_generic,
)
from integrations.connectors.carrier.transport import CarrierUnavailable
from integrations.connectors.carrier.ups import client as ups_client
from integrations.connectors.carrier.usps import client as usps_client
from integrations.connectors.carrier.usps.mapping import usps_local_time
from integrations.events import Problem
from integrations.models import Connection, InboundMessage
from integrations.services import inbound_message_process
from tests.integrations.shipping import shipment_in_flight
from tests.receiver import Receiver

FEDEX_LOOKUP = codes.static_lookup(
    {("shipment_status", "carrier-fedex"): codes.FEDEX_EVENT_TYPE}
)

TRACK_REPLY = """<?xml version="1.0" encoding="UTF-8"?>
<TrackReply xmlns="http://fedex.com/ws/track/v7">
  <HighestSeverity>SUCCESS</HighestSeverity>
  <CompletedTrackDetails>
    <DuplicateWaybill>false</DuplicateWaybill>
    <TrackDetails>
      <TrackingNumber>794600000001</TrackingNumber>
      <DeliverySignatureName>J.SAMPLE</DeliverySignatureName>
      <Events>
        <Timestamp>2025-03-04T12:02:00-06:00</Timestamp>
        <EventType>{code}</EventType>
        <EventDescription>Delivered</EventDescription>
        <Address><City>DALLAS</City><StateOrProvinceCode>TX</StateOrProvinceCode>
        <CountryCode>US</CountryCode></Address>
      </Events>
      <Events>
        <Timestamp>2025-03-04T07:10:00</Timestamp>
        <EventType>OD</EventType>
        <EventDescription>On FedEx vehicle for delivery</EventDescription>
        <Address><City>DALLAS</City><StateOrProvinceCode>TX</StateOrProvinceCode>
        <CountryCode>US</CountryCode></Address>
      </Events>
    </TrackDetails>
  </CompletedTrackDetails>
</TrackReply>
"""


def _reply(code: str = "DL") -> bytes:
    return TRACK_REPLY.replace("{code}", code).encode()


def _fedex(body: bytes):
    return parse_carrier_webhook(
        body, source="carrier-fedex", carrier_scac="", lookup=FEDEX_LOOKUP
    )


@pytest.mark.parametrize(
    ("code", "parser"),
    [
        ("carrier-fedex", fedex.parse_tracking),
        ("carrier-fedex-ground", fedex.parse_tracking),
        ("carrier-dhl", dhl.parse_tracking),
        ("carrier-crx", parse_generic),
        ("carrier-fedexx", parse_generic),
        ("fedex", parse_generic),
    ],
)
def test_connection_code_chooses_the_carrier_mapping(code, parser):
    assert carrier_parser_for(code) is parser


def test_fedex_reply_maps_with_offsets_locations_and_signature():
    result = _fedex(_reply())

    assert result.problems == []
    assert [(e.type, e.time, e.data["tz_source"]) for e in result.events] == [
        (
            "shipment.delivered",
            dt.datetime(2025, 3, 4, 18, 2, tzinfo=dt.UTC),
            "payload",
        ),
        (
            "shipment.milestone",
            dt.datetime(2025, 3, 4, 13, 10, tzinfo=dt.UTC),
            "location",
        ),
    ]
    assert result.events[0].data["signed_by"] == "J.SAMPLE"


def test_renamed_fedex_scan_is_an_unmapped_code_and_the_rest_applies():
    result = _fedex(_reply(code="DL2"))

    assert result.problems == [
        Problem("unmapped_code", "unmapped carrier code DL2 (carrier FedEx)")
    ]
    assert [e.data["status"] for e in result.events] == ["out_for_delivery"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<TrackReply><HighestSeverity>&lol3;</HighestSeverity></TrackReply>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<TrackResponse><TrackInfo ID="&secret;"/></TrackResponse>"""


@pytest.mark.parametrize(
    ("connection", "body"),
    [
        ("carrier-fedex", BILLION_LAUGHS),
        ("carrier-usps", EXTERNAL_ENTITY),
        ("carrier-canadapost", BILLION_LAUGHS),
        ("carrier-crx", EXTERNAL_ENTITY),
    ],
)
def test_xml_with_entity_declarations_is_refused_whole(connection, body):
    result = parse_carrier_webhook(
        body, source=connection, carrier_scac="", lookup=FEDEX_LOOKUP
    )

    assert result.events == []
    [problem] = result.problems
    assert problem.code == "invalid_message"
    assert "XML refused: entity declarations are not accepted" in problem.reason


def test_broken_xml_is_an_invalid_message():
    result = _fedex(b"<TrackReply><Events></TrackReply>")

    assert result.problems == [
        Problem(
            "invalid_message",
            "FedEx body is not XML: mismatched tag: line 1, column 22",
        )
    ]


@pytest.mark.parametrize(
    ("date", "clock", "expected"),
    [
        ("April 28, 2015", "9:01 am", dt.datetime(2015, 4, 28, 9, 1)),
        ("April 28, 2015", "12:05 am", dt.datetime(2015, 4, 28, 0, 5)),
        ("April 28, 2015", "12:30 pm", dt.datetime(2015, 4, 28, 12, 30)),
        ("December 1, 2024", "11:59 PM", dt.datetime(2024, 12, 1, 23, 59)),
        ("May 2, 2024", "", dt.datetime(2024, 5, 2)),
    ],
)
def test_usps_dates_and_times_read_in_english(date, clock, expected):
    assert usps_local_time(date, clock) == expected


@pytest.mark.parametrize(("date", "clock"), [("", "9:01 am"), ("Foo 1, 2024", "")])
def test_usps_unreadable_date_raises(date, clock):
    with pytest.raises(ValueError, match="is not a USPS date"):
        usps_local_time(date, clock)


def _post(connection: Connection, body: bytes, content_type: str):
    message_id = f"msg-{uuid.uuid4()}"
    headers = signing.signed_headers(
        connection.inbound_secret, message_id, body, now=time.time()
    )
    return Client().post(
        f"/integrations/inbound/{connection.code}/",
        data=body,
        content_type=content_type,
        headers=headers,
    )


@pytest.mark.django_db
def test_fedex_xml_posted_as_text_xml_is_accepted_and_delivers(seeded):
    connection = Connection.objects.get(code="carrier-fedex")
    shipment = shipment_in_flight(
        "SH-FX1", tracking="794600000001", status="in_transit"
    )

    response = _post(connection, _reply(), "text/xml; charset=utf-8")
    message = InboundMessage.objects.get(pk=response.json()["message_id"])
    inbound_message_process(message_id=message.pk)

    message.refresh_from_db()
    shipment.refresh_from_db()
    assert response.status_code == 202
    assert (message.state, message.content_type) == ("processed", "text/xml")
    assert shipment.status == "delivered"
    assert shipment.delivered_at == dt.datetime(2025, 3, 4, 18, 2, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_xml_is_refused_on_a_system_connection(seeded):
    response = _post(Connection.objects.get(code="erp"), b"<order/>", "application/xml")

    assert response.status_code == 415
    assert response.json()["detail"] == "send application/json"


def _connection(**fields) -> Connection:
    return Connection(
        code="carrier-test",
        base_url="http://127.0.0.1:9/api/",
        oauth_client_id="user-1",
        outbound_secret="s3cret",
        timeout_seconds=1.0,
        **fields,
    )


def test_ups_request_carries_the_bearer_token_and_quoted_number():
    request = ups_client.build_track_request(_connection(), "1Z 99/1").prepare()

    assert request.url == "http://127.0.0.1:9/api/api/track/v1/details/1Z%2099%2F1"
    assert request.headers["Authorization"] == "Bearer s3cret"


def test_usps_request_escapes_the_user_id_and_numbers_in_its_xml():
    request = usps_client.build_track_request(
        _connection(), "9400<1>", "9401"
    ).prepare()

    assert request.url.startswith("http://127.0.0.1:9/api/ShippingAPI.dll?API=TrackV2")
    assert "%3CTrackID+ID%3D%229400%26lt%3B1%26gt%3B%22%2F%3E" in request.url
    with pytest.raises(ValueError, match="1 to 10 numbers"):
        usps_client.build_track_request(_connection(), *[str(n) for n in range(11)])


def test_canada_post_and_easypost_requests_use_basic_auth():
    canada = canadapost_client.build_track_request(_connection(), "1371").prepare()
    easypost = easypost_client.build_track_request(_connection(), "trk_1").prepare()

    assert canada.url == "http://127.0.0.1:9/api/vis/track/pin/1371/detail"
    assert canada.headers["Authorization"] == "Basic dXNlci0xOnMzY3JldA=="
    assert easypost.url == "http://127.0.0.1:9/api/v2/trackers/trk_1"
    assert easypost.headers["Authorization"] == "Basic czNjcmV0Og=="


def test_fedex_client_posts_the_track_request_to_the_carrier():
    receiver = Receiver().start()
    try:
        connection = _connection()
        connection.base_url = receiver.url
        body = fedex_client.fetch_tracking(connection, "794600000001")
    finally:
        receiver.stop()

    [received] = receiver.requests
    assert body == b""
    assert received.path == "/web-services/track"
    assert received.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert b"<Value>794600000001</Value>" in received.body
    assert b"<Key>user-1</Key><Password>s3cret</Password>" in received.body


def test_unreachable_carrier_is_reported_with_the_connection():
    receiver = Receiver(fail_statuses=[503]).start()
    try:
        connection = _connection()
        connection.base_url = receiver.url
        with pytest.raises(CarrierUnavailable, match="carrier-test: HTTP 503"):
            fedex_client.fetch_tracking(connection, "794600000001")
    finally:
        receiver.stop()


def test_dhl_and_aftership_requests_send_their_api_key_headers():
    dhl_request = dhl_client.build_track_request(
        _connection(api_key_header="DHL-API-Key"), "7777777770"
    ).prepare()
    aftership = aftership_client.build_track_request(
        _connection(), "fedex", "1111 1111"
    ).prepare()

    assert dhl_request.url == (
        "http://127.0.0.1:9/api/track/shipments?trackingNumber=7777777770"
    )
    assert dhl_request.headers["DHL-API-Key"] == "s3cret"
    assert aftership.url == "http://127.0.0.1:9/api/v4/trackings/fedex/1111%201111"
    assert aftership.headers["aftership-api-key"] == "s3cret"
