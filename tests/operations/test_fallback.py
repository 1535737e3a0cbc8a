"""TMS rating unavailable: ship on the lane's fallback carrier, open a case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from integrations.models import CircuitBreaker, Connection, OutboxMessage
from operations.fallback import fallback_candidates, release_unrated_shipments
from operations.models import ExceptionCase, LaneFallbackRule
from shipments.models import Shipment
from tests.integrations.shipping import packed_shipment

pytestmark = pytest.mark.django_db


def _open_tms_breaker() -> None:
    CircuitBreaker.objects.create(
        connection=Connection.objects.get(code="tms"),
        state=CircuitBreaker.State.OPEN,
        failures=5,
        open_until=timezone.now() + dt.timedelta(minutes=1),
    )


def _after_timeout() -> dt.datetime:
    return timezone.now() + dt.timedelta(
        seconds=settings.WAYBILL_TMS_RATING_TIMEOUT_SECONDS + 1
    )


def test_open_tms_breaker_ships_on_the_lane_rule_and_opens_a_freight_case(seeded):
    packed_shipment("SO-1")
    _open_tms_breaker()

    assert release_unrated_shipments(now=_after_timeout()) == 1

    shipment = Shipment.objects.get(number="SH-SO-1")
    assert (shipment.carrier.scac, shipment.service.code) == ("RDWY", "LTL")
    assert shipment.freight_estimate is None
    request = OutboxMessage.objects.get(type="shipment.plan_requested")
    assert request.state == "withdrawn"
    assert request.last_error == "withdrawn: shipped on fallback carrier RDWY"
    confirmation = OutboxMessage.objects.get(type="shipment.confirmed")
    assert confirmation.payload["carrier_scac"] == "RDWY"
    assert confirmation.payload["rated"] is False
    case = ExceptionCase.objects.get(kind="freight_reconciliation")
    assert case.title == "SH-SO-1 shipped on fallback carrier RDWY without a TMS rate"
    assert case.shipment == shipment
    assert case.order.number == "SO-1"


def test_foreign_lane_falls_back_to_the_catch_all_rule(seeded):
    packed_shipment("SO-2", account="ZETA")
    _open_tms_breaker()

    release_unrated_shipments(now=_after_timeout())

    assert Shipment.objects.get(number="SH-SO-2").carrier.scac == "CRX"


def test_a_short_outage_is_left_to_the_retries(seeded):
    packed_shipment("SO-3")
    _open_tms_breaker()

    assert fallback_candidates() == []
    assert release_unrated_shipments() == 0
    assert Shipment.objects.get(number="SH-SO-3").carrier is None


def test_a_request_undelivered_past_the_timeout_falls_back(seeded, settings):
    packed_shipment("SO-4")
    settings.WAYBILL_TMS_RATING_TIMEOUT_SECONDS = 600

    later = timezone.now() + dt.timedelta(seconds=601)

    assert fallback_candidates(now=later) == ["SH-SO-4"]
    assert release_unrated_shipments(now=later) == 1


def test_a_dead_request_falls_back_even_with_the_breaker_closed(seeded):
    packed_shipment("SO-5")
    OutboxMessage.objects.filter(type="shipment.plan_requested").update(state="dead")

    assert fallback_candidates() == ["SH-SO-5"]


def test_a_planned_shipment_and_a_delivered_request_are_never_touched(seeded):
    packed_shipment("SO-6")
    OutboxMessage.objects.filter(type="shipment.plan_requested").update(
        state="delivered"
    )
    _open_tms_breaker()

    assert release_unrated_shipments(now=_after_timeout()) == 0
    assert Shipment.objects.get(number="SH-SO-6").carrier is None


def test_running_twice_releases_once_with_one_case_and_one_confirmation(seeded):
    packed_shipment("SO-7")
    _open_tms_breaker()

    assert release_unrated_shipments(now=_after_timeout()) == 1
    assert release_unrated_shipments(now=_after_timeout()) == 0

    assert ExceptionCase.objects.filter(kind="freight_reconciliation").count() == 1
    assert OutboxMessage.objects.filter(type="shipment.confirmed").count() == 1


def test_a_lane_without_a_rule_opens_a_case_and_keeps_waiting(seeded):
    LaneFallbackRule.objects.all().delete()
    packed_shipment("SO-8")
    _open_tms_breaker()

    assert release_unrated_shipments(now=_after_timeout()) == 0

    case = ExceptionCase.objects.get(kind="freight_reconciliation")
    assert case.title == "No fallback carrier for SH-SO-8: TMS rating unavailable"
    assert Shipment.objects.get(number="SH-SO-8").carrier is None
    assert OutboxMessage.objects.get(type="shipment.plan_requested").state == "pending"


def test_the_carrier_with_its_own_connection_gets_a_tender(seeded):
    Connection.objects.filter(code="carrier-crx").update(
        base_url="http://127.0.0.1:9/carrier"
    )
    packed_shipment("SO-9", account="ZETA")
    _open_tms_breaker()

    release_unrated_shipments(now=_after_timeout())

    tender = OutboxMessage.objects.get(type="shipment.tender")
    assert tender.destination.code == "carrier-crx"
    assert tender.payload["ship_to"]["city"] == "Hamburg"
    assert tender.payload["packages"] == [
        {"sscc": "003456789012345675", "weight_kg": "2.500"}
    ]


def test_a_more_specific_rule_wins_over_priority(seeded):
    from masterdata.models import Carrier, Warehouse

    LaneFallbackRule.objects.create(
        ship_from=Warehouse.objects.get(code="DC-EAST"),
        destination_country="US",
        destination_state="OH",
        carrier=Carrier.objects.get(scac="FXFE"),
        priority=999,
    )
    packed_shipment("SO-10")
    _open_tms_breaker()

    release_unrated_shipments(now=_after_timeout())

    assert Shipment.objects.get(number="SH-SO-10").carrier.scac == "FXFE"


def test_an_x12_fallback_carrier_receives_a_204_load_tender_file(
    seeded, settings, tmp_path
):
    from integrations.edi.x12 import parse_interchanges
    from integrations.outbox import outbox_dispatch

    settings.VAR_DIR = tmp_path
    Connection.objects.create(
        code="carrier-rdwy",
        name="Roadway EDI",
        kind=Connection.Kind.CARRIER,
        protocol=Connection.Protocol.X12_FILE,
        scac="RDWY",
    )
    packed_shipment("SO-11")
    _open_tms_breaker()

    release_unrated_shipments(now=_after_timeout())
    tender = OutboxMessage.objects.get(type="shipment.tender")
    delivered = outbox_dispatch(message_id=tender.pk)

    [written] = (tmp_path / "outbound" / "carrier-rdwy").iterdir()
    [interchange] = parse_interchanges(written.read_bytes())
    [transaction_set] = interchange.transaction_sets
    b2 = next(s for s in transaction_set.segments if s[0] == "B2")
    assert delivered.state == "delivered"
    assert transaction_set.st01 == "204"
    assert transaction_set.errors == []
    assert (b2[2], b2[4]) == ("RDWY", "SH-SO-11")


def test_a_withdrawn_tms_request_is_never_replayed(seeded):
    from integrations.replay import ReplaySelection, replay_run, replay_select

    packed_shipment("SO-12")
    _open_tms_breaker()
    release_unrated_shipments(now=_after_timeout())
    request = OutboxMessage.objects.get(type="shipment.plan_requested")

    by_state = replay_select(ReplaySelection(direction="outbound", state="dead"))
    replayed = replay_run(direction="outbound", ids=[request.pk])

    request.refresh_from_db()
    assert request.pk not in by_state
    assert replayed == 0
    assert request.state == "withdrawn"
