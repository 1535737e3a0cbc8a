"""The stand-in TMS: plan by lane, then milestones in its own words to delivery."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from integrations.simulators.tms import carrier_for, freight_estimate, tracking_numbers
from tests.simulators.payloads import plan_requested

EASTERN = ZoneInfo("America/New_York")
CENTRAL = ZoneInfo("America/Chicago")
NEWARK = ("Newark", "NJ", "US", EASTERN)
MEMPHIS = ("Memphis", "TN", "US", CENTRAL)
COLUMBUS = ("Columbus", "OH", "US", EASTERN)
NORMAL = [
    ("shipment.milestone", "TENDERED", "Tendered to carrier", 0, NEWARK),
    ("shipment.milestone", "ACCEPTED", "Carrier accepted the tender", 3, NEWARK),
    ("shipment.milestone", "PICKUP", "Picked up at shipper", 6, NEWARK),
    ("shipment.milestone", "DEPARTED", "Departed origin terminal", 9, NEWARK),
    ("shipment.milestone", "ARRIVED_HUB", "Arrived at carrier hub", 12, MEMPHIS),
    ("shipment.milestone", "OUT_FOR_DELIVERY", "Out for delivery", 15, COLUMBUS),
    ("shipment.delivered", "DELIVERED", "Delivered", 18, COLUMBUS),
]


def expected_milestones(rows: list, start: dt.datetime) -> list[tuple[str, dict]]:
    """Return (type, data) for rows of (type, code, text, hours, place)."""
    expected = []
    for event_type, code, text, hours, (city, state, country, zone) in rows:
        occurred_at = (start + dt.timedelta(hours=hours)).astimezone(zone)
        data = {
            "shipment_number": "SH-SO-1001",
            "status_code": code,
            "description": text,
            "occurred_at": occurred_at.isoformat(),
            "city": city,
            "state": state,
            "country": country,
        }
        expected.append((event_type, data))
    return expected


def tracked(hub, count: int) -> tuple[dict, list[tuple[str, dict]], dt.datetime]:
    """Wait for the plan and its milestones; return them and the plan's start."""
    events = hub.wait_for_accepted(count)
    planned, *milestones = events
    start = dt.datetime.fromisoformat(milestones[0]["data"]["occurred_at"])
    return planned, [(e["type"], e["data"]) for e in milestones], start


def test_plan_request_is_planned_then_tracked_to_delivery(start_simulator, hub):
    tms = start_simulator("tms")

    response = tms.deliver("shipment.plan_requested", plan_requested())
    planned, milestones, start = tracked(hub, 8)

    assert response.status_code == 202
    assert (planned["type"], planned["subject"], planned["correlationid"]) == (
        "shipment.planned",
        "SH-SO-1001",
        "SO-1001",
    )
    assert planned["data"] == {
        "shipment_number": "SH-SO-1001",
        "carrier_scac": "RDWY",
        "service_code": "LTL",
        "tracking_numbers": ["5231448484"],
        "eta": (start + dt.timedelta(hours=18)).astimezone(EASTERN).isoformat(),
        "freight_estimate": "88.45",
        "currency": "USD",
    }
    delivered = milestones[-1][1]
    pod = delivered.pop("pod")
    assert delivered.pop("signed_by") == "A. MUELLER"
    assert milestones == expected_milestones(NORMAL, start)
    assert (pod["filename"], pod["content_type"]) == (
        "POD-SH-SO-1001.pdf",
        "application/pdf",
    )
    assert base64.b64decode(pod["content_base64"]).startswith(b"%PDF-")


def test_exception_scenario_adds_a_weather_delay_after_departed(start_simulator, hub):
    tms = start_simulator("tms")
    tms.control("scenario", {"order_number": "SO-1001", "scenario": "exception"})

    tms.deliver("shipment.plan_requested", plan_requested())
    planned, milestones, start = tracked(hub, 9)

    delivered = milestones[-1][1]
    assert sorted(delivered.pop("pod")) == [
        "content_base64",
        "content_type",
        "filename",
    ]
    assert delivered.pop("signed_by") == "A. MUELLER"
    delay = milestones[4][1]
    assert (delay.pop("reason_code"), delay.pop("eta")) == (
        "weather",
        (start + dt.timedelta(hours=45)).astimezone(EASTERN).isoformat(),
    )
    assert milestones == expected_milestones(
        [
            *NORMAL[:4],
            ("shipment.exception", "DELAY", "Delayed by severe weather", 12, MEMPHIS),
            (
                "shipment.milestone",
                "ARRIVED_HUB",
                "Arrived at carrier hub",
                39,
                MEMPHIS,
            ),
            (
                "shipment.milestone",
                "OUT_FOR_DELIVERY",
                "Out for delivery",
                42,
                COLUMBUS,
            ),
            ("shipment.delivered", "DELIVERED", "Delivered", 45, COLUMBUS),
        ],
        start,
    )
    # The plan was made before the weather: its ETA is the undelayed one.
    assert planned["data"]["eta"] == (
        (start + dt.timedelta(hours=18)).astimezone(EASTERN).isoformat()
    )


def test_reorder_shuffles_milestones_by_seed_but_plans_first(start_simulator, hub):
    tms = start_simulator("tms", "--seed", "1")
    tms.control("config", {"reorder": True})

    tms.deliver("shipment.plan_requested", plan_requested())
    events = hub.wait_for_accepted(8)

    assert [e["data"].get("status_code", e["type"]) for e in events] == [
        "shipment.planned",
        "ARRIVED_HUB",
        "DEPARTED",
        "TENDERED",
        "PICKUP",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
        "ACCEPTED",
    ]


def test_scenario_control_refuses_unknown_scenarios(start_simulator):
    tms = start_simulator("tms")

    response = tms.control("scenario", {"order_number": "SO-1", "scenario": "fire"})

    assert response.status_code == 400
    assert response.json() == {"error": "scenario must be one of normal, exception"}
    assert tms.state()["scenarios"] == {}


def test_carrier_is_chosen_by_lane():
    newark = {"state": "NJ", "country": "US"}

    assert carrier_for(newark, {"state": "OH", "country": "US"}) == ("RDWY", "LTL")
    assert carrier_for(newark, {"state": "NJ", "country": "US"}) == ("FXFE", "GROUND")
    assert carrier_for(newark, {"state": "", "country": "DE"}) == ("UPSN", "EXPRESS")


def test_freight_estimate_is_a_flat_charge_plus_a_rate_per_kg():
    packages = [{"weight_kg": "4.150"}, {"weight_kg": "3.525"}, {"weight_kg": ""}]

    assert freight_estimate("RDWY", packages) == Decimal("88.45")
    assert freight_estimate("UPSN", packages) == Decimal("84.56")


def test_ltl_gets_one_pro_number_and_parcel_one_number_per_package():
    assert tracking_numbers("RDWY", "SH-1", 3) == ["9283378587"]
    assert len(tracking_numbers("FXFE", "SH-1", 3)) == 3
    assert [n[:8] for n in tracking_numbers("UPSN", "SH-1", 2)] == ["1Z999AA1"] * 2


@pytest.mark.parametrize("scenario", ["normal", "exception"])
def test_a_journey_is_dated_so_its_last_milestone_is_now(scenario):
    from integrations.simulators.tms import (
        journey_start,
        milestone_chain,
        planned_data,
    )

    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    request = plan_requested()
    start = journey_start(request, scenario=scenario, now=now)

    planned = planned_data(request, start=start)
    chain = milestone_chain(request, planned=planned, start=start, scenario=scenario)

    times = [dt.datetime.fromisoformat(data["occurred_at"]) for _, data in chain]
    assert max(times) == now
    assert min(times) < now
