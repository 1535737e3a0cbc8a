"""Carrier shipment requests: text per the carrier's charset (B29), measures (B28d)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from integrations.connectors.carrier.outbound import (
    AddressNotAccepted,
    CarrierProfile,
    Parcel,
    build_shipment_request,
    parcel_measures,
    send_shipment_request,
)
from integrations.connectors.carrier.transport import CarrierUnavailable
from integrations.models import Connection
from tests.receiver import Receiver

UTF8_CARRIER = CarrierProfile(name="carrier A")
ASCII_CARRIER = CarrierProfile(name="carrier B", ascii_only=True)
B29_CONSIGNEE = {
    "name": "Łukasz Żółć",
    "street": "Calle Mayor 5, 3º 2ª",
    "city": "Kraków",
    "postal_code": "31-001",
    "country": "PL",
}
TOKYO_CONSIGNEE = {
    "name": "Yamada Taro",
    "street": "東京都港区芝公園4-2-8",
    "city": "Tokyo",
    "postal_code": "105-0011",
    "country": "JP",
}
B28_PARCEL = Parcel(
    weight_g=Decimal(40),
    length_cm=Decimal("18.2"),
    width_cm=Decimal("33.7"),
    height_cm=Decimal(10),
)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def carrier_connection(db, receiver):
    return Connection.objects.create(
        code="carrier-labels",
        name="Label API on loopback",
        kind=Connection.Kind.CARRIER,
        base_url=receiver.url,
        outbound_secret="label-token",
        timeout_seconds=2.0,
    )


def _build(profile, consignee=B29_CONSIGNEE):
    return build_shipment_request(
        profile=profile, reference="SH-101", consignee=consignee, parcel=B28_PARCEL
    )


def test_utf8_carrier_receives_the_original_utf8_bytes(carrier_connection, receiver):
    request = _build(UTF8_CARRIER)

    send_shipment_request(carrier_connection, request)

    [received] = receiver.requests
    assert received.path == "/shipments"
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert received.headers["Authorization"] == "Bearer label-token"
    assert received.body == request.body
    assert "Łukasz Żółć".encode() in received.body
    assert "Calle Mayor 5, 3º 2ª".encode() in received.body
    assert json.loads(received.body.decode("utf-8"))["consignee"] == B29_CONSIGNEE


def test_ascii_carrier_receives_transliterated_latin_text(carrier_connection, receiver):
    consignee = dict(B29_CONSIGNEE)

    send_shipment_request(carrier_connection, _build(ASCII_CARRIER, consignee))

    [received] = receiver.requests
    assert received.headers["Content-Type"] == "application/json"
    assert received.body.isascii() is True
    assert b"?" not in received.body
    assert json.loads(received.body)["consignee"] == {
        "name": "Lukasz Zolc",
        "street": "Calle Mayor 5, 3o 2a",
        "city": "Krakow",
        "postal_code": "31-001",
        "country": "PL",
    }
    # What the portal, API and documents show keeps the original text.
    assert consignee == B29_CONSIGNEE
    assert consignee["name"] == "Łukasz Żółć"


def test_non_latin_address_is_refused_for_ascii_carrier_before_sending(
    carrier_connection, receiver
):
    with pytest.raises(
        AddressNotAccepted,
        match=r"^street: '東' is Cjk script; this carrier takes Latin text only",
    ) as refused:
        request = _build(ASCII_CARRIER, consignee=TOKYO_CONSIGNEE)
        send_shipment_request(carrier_connection, request)

    assert refused.value.field == "street"
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("text", "script"),
    [("Иван Петров", "Cyrillic"), ("Αθήνα", "Greek"), ("とうきょう", "Hiragana")],
)
def test_other_scripts_are_refused_by_name(text, script):
    with pytest.raises(AddressNotAccepted, match=f"is {script} script"):
        _build(ASCII_CARRIER, consignee={**B29_CONSIGNEE, "city": text})


def test_symbol_without_ascii_form_is_refused_not_spelled_out():
    with pytest.raises(AddressNotAccepted, match=r"^name: '😀' \(GRINNING FACE\)"):
        _build(ASCII_CARRIER, consignee={**B29_CONSIGNEE, "name": "Ann 😀"})


def test_non_latin_address_goes_unchanged_to_utf8_carrier():
    request = _build(UTF8_CARRIER, consignee=TOKYO_CONSIGNEE)

    assert json.loads(request.body)["consignee"]["street"] == "東京都港区芝公園4-2-8"


def test_light_parcel_weighs_the_minimum_and_sizes_round_up():
    measures = parcel_measures(ASCII_CARRIER, B28_PARCEL)

    assert measures == {
        "weight_kg": "0.1",
        "length_cm": "19",
        "width_cm": "34",
        "height_cm": "10",
    }


@pytest.mark.parametrize(
    ("grams", "expected"),
    [("40", "0.1"), ("149", "0.1"), ("150", "0.2"), ("1234", "1.2"), ("1250", "1.3")],
)
def test_weight_rounds_half_up_to_the_carrier_step(grams, expected):
    parcel = Parcel(Decimal(grams), Decimal(1), Decimal(1), Decimal(1))

    assert parcel_measures(UTF8_CARRIER, parcel)["weight_kg"] == expected


def test_carrier_error_answer_is_reported_not_swallowed(carrier_connection, receiver):
    receiver.fail_statuses = [422]

    with pytest.raises(CarrierUnavailable, match="carrier-labels: HTTP 422"):
        send_shipment_request(carrier_connection, _build(UTF8_CARRIER))
