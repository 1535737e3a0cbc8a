"""Events of one order or shipment are applied one at a time across workers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from integrations.events import Event
from integrations.models import CanonicalEvent
from integrations.services import _lock_aggregates, event_apply
from operations.demo import demo_order

pytestmark = pytest.mark.django_db(transaction=True)


def _released(number: str, event_id: str) -> Event:
    return Event(
        id=event_id,
        source="erp/sim",
        type="order.released",
        subject=number,
        time=dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC),
        data=demo_order(number=number, account_number="ACME", index=0),
        correlationid=number,
    )


def _in_thread(target) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_event_waits_while_another_worker_holds_its_order(seeded):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks exist on PostgreSQL only; SQLite has one writer")
    holding = threading.Event()
    release = threading.Event()

    def other_worker() -> None:
        with transaction.atomic():
            _lock_aggregates(_released("SO-LOCK", "held"))
            holding.set()
            release.wait(10)

    holder = _in_thread(other_worker)
    assert holding.wait(10)
    applied = threading.Event()
    applier = _in_thread(
        lambda: (
            event_apply(event=_released("SO-LOCK", "e-1"), message=None),
            applied.set(),
        )
    )

    blocked_while_held = not applied.wait(1.0)
    release.set()
    holder.join(10)
    applier.join(10)

    assert blocked_while_held
    assert applied.is_set()
    assert CanonicalEvent.objects.get(event_id="e-1").state == "applied"


def test_events_of_other_orders_do_not_wait(seeded):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks exist on PostgreSQL only; SQLite has one writer")
    holding = threading.Event()
    release = threading.Event()

    def other_worker() -> None:
        with transaction.atomic():
            _lock_aggregates(_released("SO-BUSY", "held"))
            holding.set()
            release.wait(10)

    holder = _in_thread(other_worker)
    assert holding.wait(10)
    try:
        assert event_apply(event=_released("SO-FREE", "e-2"), message=None) is None
    finally:
        release.set()
        holder.join(10)

    assert CanonicalEvent.objects.get(event_id="e-2").state == "applied"
