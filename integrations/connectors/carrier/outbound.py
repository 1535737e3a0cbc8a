"""Build and send carrier shipment (label) requests for a carrier's profile.

A carrier profile says what the carrier's API takes: its text encoding and
how it wants weights and sizes. Two rules come from the field (CASES B28,
B29):

- Text. A UTF-8 carrier receives the consignee exactly as entered, as UTF-8
  bytes declared ``charset=utf-8``. An ASCII-only carrier receives Latin
  text transliterated (``Łukasz Żółć`` becomes ``Lukasz Zolc``, ``3º``
  becomes ``3o``); text in another script (``東京都港区``) is refused with
  a validation error before any request is sent, because a transliteration
  into another language's romanisation would print a label no courier can
  deliver. A ``?`` is never sent in place of a character.
- Measures. Weight is converted from grams to the carrier's unit, rounded
  half-up to its step and never below its minimum (a 40 g parcel is
  0.1 kg, never 0.0); sizes are rounded up to the carrier's step, so the
  box declared is never smaller than the box sent. Decimal throughout.

The portal, API and documents keep the original text: only the request
body built here is transliterated.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import unicodedata
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

import requests
from anyascii import anyascii

from integrations.connectors.carrier.transport import CarrierUnavailable
from integrations.models import Connection

logger = logging.getLogger(__name__)

_GRAMS_PER_KG = Decimal(1000)
# Letters outside the Latin script's names that still belong to Latin text.
_LATIN_EXTRAS = {"\u00aa", "\u00ba"}  # Feminine and masculine ordinal indicators.


class AddressNotAccepted(ValueError):
    """Consignee text the carrier cannot take, with the field and the reason."""

    code = "address_not_accepted"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class CarrierProfile:
    """What one carrier's shipment API accepts."""

    name: str
    ascii_only: bool = False
    weight_step_kg: Decimal = Decimal("0.1")
    weight_minimum_kg: Decimal = Decimal("0.1")
    size_step_cm: Decimal = Decimal(1)


@dataclasses.dataclass(frozen=True)
class Parcel:
    """A parcel as measured in the warehouse: grams and centimetres."""

    weight_g: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal


@dataclasses.dataclass(frozen=True)
class CarrierRequest:
    """The exact bytes to send and their content type."""

    body: bytes
    content_type: str


def build_shipment_request(
    *,
    profile: CarrierProfile,
    reference: str,
    consignee: dict[str, str],
    parcel: Parcel,
) -> CarrierRequest:
    """Return the shipment request body for a carrier, or raise AddressNotAccepted.

    The consignee keys are ``name``, ``company``, ``street``, ``street2``,
    ``city``, ``state``, ``postal_code`` and ``country`` (ISO alpha-2).
    """
    address = {
        key: consignee_text(value, field=key, ascii_only=profile.ascii_only)
        for key, value in consignee.items()
    }
    document = {
        "reference": consignee_text(
            reference, field="reference", ascii_only=profile.ascii_only
        ),
        "consignee": address,
        "parcel": parcel_measures(profile, parcel),
    }
    if profile.ascii_only:
        return CarrierRequest(
            json.dumps(document, ensure_ascii=True).encode("ascii"),
            "application/json",
        )

    return CarrierRequest(
        json.dumps(document, ensure_ascii=False).encode("utf-8"),
        "application/json; charset=utf-8",
    )


def consignee_text(value: str, *, field: str, ascii_only: bool) -> str:
    """Return a text field as the carrier takes it; raise when it cannot.

    For an ASCII-only carrier, Latin letters with marks lose their marks
    and other scripts are refused, naming the field and the script.
    """
    if not ascii_only or value.isascii():
        return value
    for character in value:
        _check_transliterable(character, field=field)

    return anyascii(value)


def _check_transliterable(character: str, *, field: str) -> None:
    if character.isascii() or character in _LATIN_EXTRAS:
        return
    category = unicodedata.category(character)
    name = unicodedata.name(character, "")
    if category.startswith("L") and not name.startswith("LATIN "):
        script = name.split(" ", 1)[0].title() or "unknown"
        raise AddressNotAccepted(
            field,
            f"{character!r} is {script} script; this carrier takes Latin text "
            "only, so the address must be entered in Latin letters",
        )
    if category[0] not in "LMNPZ":
        raise AddressNotAccepted(
            field, f"{character!r} ({name or category}) has no ASCII form"
        )


def parcel_measures(profile: CarrierProfile, parcel: Parcel) -> dict[str, str]:
    """Return weight and sizes in the carrier's units and steps, as text."""
    weight = (Decimal(parcel.weight_g) / _GRAMS_PER_KG).quantize(
        profile.weight_step_kg, rounding=ROUND_HALF_UP
    )
    weight = max(weight, profile.weight_minimum_kg)

    return {
        "weight_kg": str(weight),
        "length_cm": _size(parcel.length_cm, profile.size_step_cm),
        "width_cm": _size(parcel.width_cm, profile.size_step_cm),
        "height_cm": _size(parcel.height_cm, profile.size_step_cm),
    }


def _size(value: Decimal, step: Decimal) -> str:
    steps = (Decimal(value) / step).to_integral_value(rounding=ROUND_CEILING)
    return format((steps * step).normalize(), "f")


def send_shipment_request(
    connection: Connection, request: CarrierRequest, *, path: str = "shipments"
) -> requests.Response:
    """POST a built shipment request to the carrier; return a 2xx response."""
    url = f"{connection.base_url.rstrip('/')}/{path.lstrip('/')}"
    headers: dict[str, Any] = {"Content-Type": request.content_type}
    if connection.outbound_secret:
        headers["Authorization"] = f"Bearer {connection.outbound_secret}"
    try:
        response = requests.post(
            url,
            data=request.body,
            headers=headers,
            timeout=connection.timeout_seconds,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise CarrierUnavailable(f"{connection.code}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise CarrierUnavailable(f"{connection.code}: HTTP {response.status_code}")

    logger.info(
        "carrier shipment request sent",
        extra={"connection": connection.code, "status": response.status_code},
    )
    return response
