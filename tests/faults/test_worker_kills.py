"""R1: SIGKILL worker pool children during ingest; nothing is lost or doubled."""

from __future__ import annotations

import time

import pytest

from integrations.models import CanonicalEvent, InboundMessage, OutboxMessage
from orders.models import Order
from tests.faults.conftest import (
    BacklogGate,
    ChildKiller,
    Sender,
    record_figures,
    sized,
    wait_for,
)

pytestmark = pytest.mark.e2e

EVENTS = int(sized(2000, 10_000))
KILLS = int(sized(10, 20))
# RELIABILITY R1: the backlog drains within 60 s of the last kill, in CI as
# in make chaos. (Drains of 33 to 81 s were outbox claims skipping messages
# whose destination row another claim held; claims now lock only their own
# row, and the drain measures a few seconds.)
DRAIN_SECONDS = 60
# The sender holds back while this many messages wait (see BacklogGate).
BACKLOG_BOUND = 100


def _drained() -> bool:
    waiting_in = InboundMessage.objects.exclude(state="processed").exists()
    waiting_out = OutboxMessage.objects.exclude(state="delivered").exists()
    return not waiting_in and not waiting_out


@pytest.mark.timeout(int(sized(900, 3600)))
def test_worker_child_kills_lose_and_double_nothing(fault_env, start_hub, receivers):
    wms = receivers("wms")
    # A task whose child died before taking it is found by the sweeper after
    # 5 s; the tight period keeps the drain inside the 60 s R1 allows, and the
    # sweeper's backlog guard keeps it from re-queuing work that only waits.
    hub = start_hub({**fault_env, "WAYBILL_REQUEUE_AFTER_SECONDS": "5"})
    numbers = [f"R1-{index:05d}" for index in range(EVENTS)]
    gate = BacklogGate(bound=BACKLOG_BOUND)
    sender = Sender(hub.hub_url, gate=gate)
    started = time.monotonic()
    # The storm (about 3.5 s per kill) is timed to end with the ingest, so
    # every kill lands while messages are arriving and being processed.
    killer = ChildKiller(
        hub,
        kills=KILLS,
        every=(2, 5),
        begin_when=lambda: (
            EVENTS - sender.sent
            <= sender.sent / (time.monotonic() - started) * KILLS * 3.5
        ),
    )

    gate.start()
    killer.start()
    results = sender.send_all(numbers)
    sent_at = time.monotonic()
    gate.stop()
    killer.join(timeout=KILLS * 5 + 30)
    last_kill = killer.killed[-1][0] if killer.killed else sent_at
    wait_for(_drained, timeout=DRAIN_SECONDS + 120, what="the backlog to drain")
    drained_at = time.monotonic()

    assert len(killer.killed) == KILLS
    assert [r.statuses[-1] for r in results] == [202] * EVENTS
    assert InboundMessage.objects.count() == EVENTS
    assert CanonicalEvent.objects.filter(state="applied").count() == EVENTS
    assert Order.objects.filter(status="released").count() == EVENTS
    keys = list(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert sorted(keys) == sorted(f"fulfilment.requested:{n}" for n in numbers)
    assert set(wms.keys()) == set(keys)
    repeats = len(wms.keys()) - len(set(wms.keys()))
    drain = max(0.0, drained_at - last_kill)
    assert drain <= DRAIN_SECONDS
    record_figures(
        "R1",
        events=EVENTS,
        kills=len(killer.killed),
        accepted=sum(1 for r in results if r.message_id is not None),
        first_kill_after_seconds=round(killer.killed[0][0] - started, 1),
        applied=EVENTS,
        lost=0,
        duplicated_outbox_rows=len(keys) - len(set(keys)),
        receiver_repeat_attempts=repeats,
        ingest_seconds=round(sent_at - started, 1),
        drained_seconds_after_last_kill=round(drain, 1),
    )


def test_killed_children_are_replaced_by_the_pool(fault_env, start_hub):
    hub = start_hub(fault_env)
    before = hub.worker_children()

    ChildKiller(hub, kills=1, every=(0, 0)).run()
    replaced = wait_for(
        lambda: (
            (children := hub.worker_children()) != before
            and len(children) == len(before)
            and children
        ),
        timeout=30,
        what="the pool to replace its child",
    )

    assert len(before) == 2
    assert len(set(replaced) - set(before)) == 1
