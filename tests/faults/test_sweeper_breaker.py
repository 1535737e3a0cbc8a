"""The outbox sweeper and an open breaker: one trial, not a flood of no-op tasks."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from integrations.models import CircuitBreaker, Connection, OutboxMessage
from integrations.outbox import outbox_claim_due, outbox_enqueue


def _pending(code: str, count: int) -> list[int]:
    ids = [
        outbox_enqueue(
            destination_code=code,
            type="sweep.probe",
            subject=f"{code}-{n}",
            payload={},
            idempotency_key=f"sweep:{code}:{n}",
        ).pk
        for n in range(count)
    ]
    # Due now and with no task in the broker: what the sweeper looks for.
    OutboxMessage.objects.filter(pk__in=ids).update(
        queued_at=None, next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    return ids


def _breaker(code: str, state: str, open_until: dt.datetime | None) -> None:
    CircuitBreaker.objects.update_or_create(
        connection=Connection.objects.get(code=code),
        defaults={"state": state, "open_until": open_until},
    )


def test_sweeper_leaves_a_destination_alone_while_its_breaker_is_open(seeded):
    tms = _pending("tms", 3)
    erp = _pending("erp", 2)
    _breaker("tms", "open", timezone.now() + dt.timedelta(seconds=30))

    claimed = outbox_claim_due()

    assert sorted(m.pk for m in claimed) == sorted(erp)
    assert OutboxMessage.objects.filter(pk__in=tms, queued_at=None).count() == 3


def test_sweeper_queues_one_trial_per_sweep_once_the_open_period_ends(seeded):
    tms = _pending("tms", 3)
    _breaker("tms", "open", timezone.now() - dt.timedelta(seconds=1))

    first = outbox_claim_due()
    again = outbox_claim_due()

    assert [m.pk for m in first] == [tms[0]]
    assert [m.pk for m in again] == [tms[1]]


def test_sweeper_queues_everything_due_once_the_breaker_closes(seeded):
    tms = _pending("tms", 3)
    _breaker("tms", "closed", None)

    claimed = outbox_claim_due()

    assert sorted(m.pk for m in claimed) == sorted(tms)
