"""A carrier's revised ETA is taken from a repeated newest scan, never from an old one."""

from __future__ import annotations

import pytest

from shipments.services import shipment_apply_milestone
from tests.integrations.shipping import shipment_in_flight

pytestmark = pytest.mark.django_db


def _scan(key: str, occurred_at: str, **estimate) -> dict:
    return {
        "key": key,
        "data": {
            "shipment_number": "SH-ETA",
            "status": "in_transit",
            "external_code": "IT",
            "occurred_at": occurred_at,
            **estimate,
        },
    }


def _apply(scan: dict) -> None:
    shipment_apply_milestone(
        data=scan["data"],
        source="carrier-test",
        event_key=scan["key"],
        canonical_event_id=None,
    )


def test_a_feed_sent_again_with_a_new_estimate_revises_the_eta(seeded):
    shipment = shipment_in_flight("SH-ETA", tracking="1Z999")
    first = "2026-03-02T08:00:00+00:00"
    second = "2026-03-03T08:00:00+00:00"
    _apply(_scan("scan-1", first, eta_date="2026-03-06"))
    _apply(_scan("scan-2", second, eta_date="2026-03-06"))

    # The carrier sends the same two scans again; only the estimate moved.
    _apply(_scan("scan-1", first, eta_date="2026-03-09"))
    _apply(_scan("scan-2", second, eta_date="2026-03-09"))

    shipment.refresh_from_db()
    assert shipment.eta_date.isoformat() == "2026-03-09"
    assert [
        revision.eta_date.isoformat()
        for revision in shipment.eta_revisions.order_by("pk")
    ] == ["2026-03-06", "2026-03-09"]


def test_an_old_feed_replayed_after_newer_scans_keeps_the_current_eta(seeded):
    shipment = shipment_in_flight("SH-ETA", tracking="1Z999")
    _apply(_scan("scan-1", "2026-03-02T08:00:00+00:00", eta_date="2026-03-06"))
    _apply(_scan("scan-2", "2026-03-03T08:00:00+00:00", eta_date="2026-03-08"))

    _apply(_scan("scan-1", "2026-03-02T08:00:00+00:00", eta_date="2026-03-06"))

    shipment.refresh_from_db()
    assert shipment.eta_date.isoformat() == "2026-03-08"
    assert shipment.eta_revisions.count() == 2
