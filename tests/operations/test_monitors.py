"""Monitors: silence becomes a case, never a status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from operations.models import ExceptionCase
from operations.monitors import monitor_missing_tracking_numbers, monitor_stale_tracking
from shipments.models import Shipment
from tests.integrations.shipping import shipment_in_flight

pytestmark = pytest.mark.django_db


def test_quiet_tracking_opens_a_case_and_leaves_the_status_alone(seeded):
    shipment = shipment_in_flight("SH-101", tracking="CRX1", status="out_for_delivery")
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    Shipment.objects.filter(pk=shipment.pk).update(last_actual_at=three_days_ago)

    assert monitor_stale_tracking() == 1

    case = ExceptionCase.objects.get(kind="tracking_quiet")
    assert Shipment.objects.get(pk=shipment.pk).status == "out_for_delivery"
    assert (
        case.title
        == f"No tracking for SH-101 since {three_days_ago:%Y-%m-%d %H:%M} UTC"
    )
    assert (
        case.detail
        == f"Last actual milestone: out_for_delivery at {three_days_ago.isoformat()}"
    )


def test_recent_tracking_opens_nothing_and_recovery_resolves_the_case(seeded):
    shipment = shipment_in_flight("SH-102", tracking="CRX2", status="in_transit")
    Shipment.objects.filter(pk=shipment.pk).update(
        last_actual_at=timezone.now() - dt.timedelta(days=3)
    )
    monitor_stale_tracking()

    Shipment.objects.filter(pk=shipment.pk).update(last_actual_at=timezone.now())
    assert monitor_stale_tracking() == 0

    assert ExceptionCase.objects.get(kind="tracking_quiet").state == "resolved"


def test_delivered_shipments_are_never_reported_quiet(seeded):
    shipment = shipment_in_flight("SH-103", tracking="CRX3", status="delivered")
    Shipment.objects.filter(pk=shipment.pk).update(
        last_actual_at=timezone.now() - dt.timedelta(days=30)
    )

    assert monitor_stale_tracking() == 0


def test_carrier_assigned_without_tracking_number_opens_a_case(seeded):
    shipment = shipment_in_flight("SH-104", tracking="X", status="carrier_assigned")
    Shipment.objects.filter(pk=shipment.pk).update(
        tracking_numbers=[], updated_at=timezone.now() - dt.timedelta(hours=5)
    )
    shipment_in_flight("SH-105", tracking="CRX5", status="carrier_assigned")

    assert monitor_missing_tracking_numbers() == 1
    assert ExceptionCase.objects.get(kind="missing_tracking").title == (
        "SH-104 is carrier_assigned without a tracking number"
    )
