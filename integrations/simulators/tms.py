"""The stand-in transport system: plan a shipment, then report it to delivery.

A plan request is answered by ``shipment.planned`` (carrier chosen by lane,
tracking numbers, ETA, freight estimate) and then the TMS's own milestones,
one step-delay apart in real time, three simulated hours apart in event
time: TENDERED, ACCEPTED, PICKUP, DEPARTED, ARRIVED_HUB, OUT_FOR_DELIVERY
and finally ``shipment.delivered`` with a POD. The exception scenario adds a
weather DELAY after DEPARTED that pushes the rest back by a day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.simulators import documents
from integrations.simulators.base import Incoming, Refused, Simulator

STEP = dt.timedelta(hours=3)
WEATHER_DELAY = dt.timedelta(hours=24)
SCENARIOS = ("normal", "exception")

# Lane rule: abroad goes express, within one state by ground parcel, and
# between states as less-than-truckload.
INTERNATIONAL = ("UPSN", "EXPRESS")
INTRASTATE = ("FXFE", "GROUND")
INTERSTATE = ("RDWY", "LTL")
# Freight estimate per carrier: a flat charge plus a rate per kilogram.
RATES = {
    "RDWY": (Decimal("85.00"), Decimal("0.45")),
    "FXFE": (Decimal("25.00"), Decimal("0.90")),
    "UPSN": (Decimal("60.00"), Decimal("3.20")),
}
DESCRIPTIONS = {
    "TENDERED": "Tendered to carrier",
    "ACCEPTED": "Carrier accepted the tender",
    "PICKUP": "Picked up at shipper",
    "DEPARTED": "Departed origin terminal",
    "DELAY": "Delayed by severe weather",
    "ARRIVED_HUB": "Arrived at carrier hub",
    "OUT_FOR_DELIVERY": "Out for delivery",
    "DELIVERED": "Delivered",
}
ORIGIN_CODES = ("TENDERED", "ACCEPTED", "PICKUP", "DEPARTED")
HUB_CODES = ("DELAY", "ARRIVED_HUB")
EVENT_TYPES = {"DELAY": "shipment.exception", "DELIVERED": "shipment.delivered"}
# The carrier hub each destination country's freight passes through.
HUBS = {"US": ("Memphis", "TN", "US"), "DE": ("Leipzig", "SN", "DE")}
ZONES = {
    ("US", "CA"): "America/Los_Angeles",
    ("US", "IL"): "America/Chicago",
    ("US", "TN"): "America/Chicago",
    ("US", "TX"): "America/Chicago",
    ("US", ""): "America/New_York",
    ("DE", ""): "Europe/Berlin",
}
SIGNERS = ("J. SMITH", "M. GARCIA", "A. MUELLER", "K. JOHNSON", "L. CHEN")


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a milestone happens and the zone its local time is given in."""

    city: str
    state: str
    country: str
    zone: dt.tzinfo


class TmsSimulator(Simulator):
    """Plan every shipment and report its milestones through delivery."""

    name = "tms"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scenarios: dict[str, str] = {}

    def event_handlers(self) -> dict[str, Callable[[Incoming], None]]:
        """Return the reaction to each event type the TMS accepts."""
        return {"shipment.plan_requested": self._on_plan_requested}

    def control_handlers(self) -> dict[str, Callable[[dict], dict]]:
        """Return the TMS's extra control verbs."""
        return {"scenario": self._control_scenario}

    def extra_state(self) -> dict[str, Any]:
        """Return the scenarios set per order."""
        return {"scenarios": dict(self.scenarios)}

    def reset_extra(self) -> None:
        """Forget every scenario."""
        self.scenarios.clear()

    def _control_scenario(self, body: dict) -> dict:
        order_number = body.get("order_number")
        scenario = body.get("scenario")
        if not isinstance(order_number, str) or not order_number:
            raise Refused("scenario needs an order_number", status=400)
        if scenario not in SCENARIOS:
            raise Refused(f"scenario must be one of {', '.join(SCENARIOS)}", 400)
        with self.lock:
            self.scenarios[order_number] = scenario

        return {"order_number": order_number, "scenario": scenario}

    def _on_plan_requested(self, incoming: Incoming) -> None:
        request = incoming.data
        shipment_number = str(request.get("shipment_number") or "")
        if not shipment_number:
            raise Refused("shipment.plan_requested needs shipment_number")
        order_number = str(request.get("order_number") or incoming.correlationid)
        with self.lock:
            scenario = self.scenarios.get(order_number, "normal")
        start = journey_start(request, scenario=scenario)

        planned = planned_data(request, start=start)
        chain = milestone_chain(
            request, planned=planned, start=start, scenario=scenario
        )
        if self.faults.reorder:
            # Seeded per shipment, so a reordered run can be replayed exactly.
            random.Random(f"{self.options.seed}:{shipment_number}").shuffle(chain)

        steps = [("shipment.planned", planned), *chain]
        for step, (event_type, payload) in enumerate(steps, start=1):
            self.emit(
                type=event_type,
                subject=shipment_number,
                correlationid=order_number,
                data=payload,
                step=step,
            )


def journey_start(
    request: dict[str, Any], *, scenario: str, now: dt.datetime | None = None
) -> dt.datetime:
    """Return when the simulated journey began, so that it ends now.

    The stand-in replays a journey of a day or two in seconds; dating it in
    the past keeps every actual milestone at or before the moment it is sent,
    as a real carrier's would be (the hub refuses actual milestones dated in
    the future).
    """
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    timeline = _timeline(request, start=now, scenario=scenario)
    return now - (timeline[-1][1] - timeline[0][1])


def planned_data(request: dict[str, Any], *, start: dt.datetime) -> dict[str, Any]:
    """Return the ``shipment.planned`` data for a plan request."""
    shipment_number = str(request["shipment_number"])
    scac, service = carrier_for(
        _dict(request.get("ship_from")), _dict(request.get("ship_to"))
    )
    packages = request.get("packages") or []
    normal = _timeline(request, start=start, scenario="normal")
    return {
        "shipment_number": shipment_number,
        "carrier_scac": scac,
        "service_code": service,
        "tracking_numbers": tracking_numbers(scac, shipment_number, len(packages)),
        "eta": normal[-1][1].isoformat(),
        "freight_estimate": str(freight_estimate(scac, packages)),
        "currency": "USD",
    }


def carrier_for(ship_from: dict[str, Any], ship_to: dict[str, Any]) -> tuple[str, str]:
    """Return (SCAC, service code) for a lane; the same lane always gets the same."""
    origin_country = str(ship_from.get("country") or "US")
    destination_country = str(ship_to.get("country") or origin_country)
    if origin_country != destination_country:
        return INTERNATIONAL
    if str(ship_from.get("state") or "") == str(ship_to.get("state") or ""):
        return INTRASTATE
    return INTERSTATE


def tracking_numbers(scac: str, shipment_number: str, packages: int) -> list[str]:
    """Return the tracking numbers: one PRO for LTL, else one per package."""
    if scac == "RDWY":
        return [_digits(f"{scac}:{shipment_number}", 10)]
    count = max(1, packages)
    numbers = [_digits(f"{scac}:{shipment_number}:{n}", 12) for n in range(count)]
    if scac == "UPSN":
        return [f"1Z999AA1{number[:10]}" for number in numbers]
    return numbers


def freight_estimate(scac: str, packages: list[dict[str, Any]]) -> Decimal:
    """Return the estimated freight: flat charge plus rate per kilogram."""
    flat, per_kg = RATES[scac]
    weight = sum((_decimal(p.get("weight_kg")) for p in packages), Decimal(0))
    return (flat + per_kg * weight).quantize(Decimal("0.01"))


def milestone_chain(
    request: dict[str, Any],
    *,
    planned: dict[str, Any],
    start: dt.datetime,
    scenario: str,
) -> list[tuple[str, dict[str, Any]]]:
    """Return (event type, data) for every milestone of the scenario, in order."""
    shipment_number = str(request["shipment_number"])
    timeline = _timeline(request, start=start, scenario=scenario)
    delivered_at = timeline[-1][1]
    chain = []
    for code, occurred_at, place in timeline:
        data = {
            "shipment_number": shipment_number,
            "status_code": code,
            "description": DESCRIPTIONS[code],
            "occurred_at": occurred_at.isoformat(),
            "city": place.city,
            "state": place.state,
            "country": place.country,
        }
        if code == "DELAY":
            data.update(reason_code="weather", eta=delivered_at.isoformat())
        if code == "DELIVERED":
            data.update(
                _proof_of_delivery(shipment_number, planned, occurred_at, place)
            )
        chain.append((EVENT_TYPES.get(code, "shipment.milestone"), data))

    return chain


def _timeline(
    request: dict[str, Any], *, start: dt.datetime, scenario: str
) -> list[tuple[str, dt.datetime, Place]]:
    """Return (status code, local time, place) for each milestone."""
    origin = _place(_dict(request.get("ship_from")))
    destination = _place(_dict(request.get("ship_to")))
    hub = _hub_for(destination)
    codes = list(ORIGIN_CODES)
    if scenario == "exception":
        codes.append("DELAY")
    codes += ["ARRIVED_HUB", "OUT_FOR_DELIVERY", "DELIVERED"]

    timeline = []
    moment = start
    for code in codes:
        place = (
            origin
            if code in ORIGIN_CODES
            else hub
            if code in HUB_CODES
            else destination
        )
        timeline.append((code, moment.astimezone(place.zone), place))
        moment += STEP + (WEATHER_DELAY if code == "DELAY" else dt.timedelta(0))

    return timeline


def _proof_of_delivery(
    shipment_number: str,
    planned: dict[str, Any],
    delivered_at: dt.datetime,
    place: Place,
) -> dict[str, Any]:
    signed_by = SIGNERS[int(_digits(shipment_number, 6)) % len(SIGNERS)]
    pdf = documents.pod_pdf(
        shipment_number=shipment_number,
        tracking_number=planned["tracking_numbers"][0],
        signed_by=signed_by,
        delivered_at=delivered_at,
        place=", ".join(
            part for part in (place.city, place.state, place.country) if part
        ),
    )
    return {
        "signed_by": signed_by,
        "pod": documents.attachment(filename=f"POD-{shipment_number}.pdf", content=pdf),
    }


def _place(address: dict[str, Any]) -> Place:
    country = str(address.get("country") or "")
    state = str(address.get("state") or "")
    return Place(
        city=str(address.get("city") or ""),
        state=state,
        country=country,
        zone=_zone(str(address.get("time_zone") or ""), country, state),
    )


def _hub_for(destination: Place) -> Place:
    if destination.country not in HUBS:
        return destination
    city, state, country = HUBS[destination.country]
    return Place(
        city=city, state=state, country=country, zone=_zone("", country, state)
    )


def _zone(name: str, country: str, state: str) -> dt.tzinfo:
    """Return the named zone, else the zone of the state or country, else UTC."""
    candidates = [name, ZONES.get((country, state)), ZONES.get((country, ""))]
    for candidate in candidates:
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return dt.UTC


def _digits(reference: str, length: int) -> str:
    digest = int(hashlib.sha256(reference.encode()).hexdigest(), 16)
    return str(digest % 10**length).zfill(length)


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
