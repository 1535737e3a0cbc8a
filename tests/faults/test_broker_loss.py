"""R3: the broker dies with its queues mid-ingest and comes back empty.

The hub runs on a redis-server of the test's own, which is stopped with
``SHUTDOWN NOSAVE`` (every queued task gone) and started again; the beat
sweepers must find the work again in the database. RELIABILITY asks for
the backlog to drain within two sweeper periods of Redis coming back: the
test asserts that every lost task is re-queued within two periods, and
reports the full drain, which on top of that takes as long as the worker
needs for the backlog.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.utils import timezone

from integrations.models import InboundMessage, OutboxMessage
from tests.faults.conftest import Sender, record_figures, sized, wait_for

pytestmark = pytest.mark.e2e

EVENTS = int(sized(300, 3000))
DOWN_SECONDS = float(sized(5, 20))
SWEEP_SECONDS = 5.0
REQUEUE_AFTER_SECONDS = 5.0


def _unfinished() -> int:
    return (
        InboundMessage.objects.exclude(state="processed").count()
        + OutboxMessage.objects.exclude(state="delivered").count()
    )


def _waiting_since_before(moment) -> bool:
    """Return whether work queued before ``moment`` is still not picked up again.

    Such work can only be waiting on a task the lost broker held; once the
    sweepers re-queue it, its ``queued_at`` moves past the restart.
    """
    inbound = InboundMessage.objects.filter(
        state__in=["received", "failed"], queued_at__lt=moment
    )
    outbound = OutboxMessage.objects.filter(state="pending", queued_at__lt=moment)
    return inbound.exists() or outbound.exists()


def test_broker_loss_loses_nothing_and_the_sweepers_recover(
    fault_env, start_hub, receivers, own_redis
):
    receivers("wms")
    hub = start_hub(
        {
            **fault_env,
            "CELERY_BROKER_URL": own_redis.url,
            "WAYBILL_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "WAYBILL_REQUEUE_AFTER_SECONDS": str(REQUEUE_AFTER_SECONDS),
        }
    )
    numbers = [f"R3-{index:05d}" for index in range(EVENTS)]
    results: list = []
    sender = Sender(hub.hub_url)
    sending = threading.Thread(
        target=lambda: results.extend(sender.send_all(numbers)), daemon=True
    )

    sending.start()
    wait_for(
        lambda: InboundMessage.objects.count() >= EVENTS * 2 // 5,
        timeout=120,
        interval=0.1,
        what="two fifths of the events",
    )
    queued = own_redis.cli("LLEN", "inbound")
    own_redis.shutdown_nosave()
    time.sleep(DOWN_SECONDS)
    own_redis.start()
    back_at, back_wall = time.monotonic(), timezone.now()
    unfinished_at_restart = _unfinished()
    wait_for(
        lambda: not _waiting_since_before(back_wall),
        timeout=60,
        interval=0.25,
        what="the sweepers to re-queue what the broker lost",
    )
    requeued = time.monotonic() - back_at
    sending.join(timeout=300)
    wait_for(lambda: _unfinished() == 0, timeout=240, what="the backlog to drain")
    drained = time.monotonic() - back_at

    accepted_ids = [result.message_id for result in results]
    assert len(results) == EVENTS
    assert None not in accepted_ids
    assert set(accepted_ids) <= set(InboundMessage.objects.values_list("pk", flat=True))
    assert InboundMessage.objects.filter(state="processed").count() == EVENTS
    keys = set(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"fulfilment.requested:{number}" for number in numbers}
    assert OutboxMessage.objects.filter(state="delivered").count() == EVENTS
    assert "inbound sweep re-queued" in hub.log("worker")
    assert requeued <= 2 * SWEEP_SECONDS
    record_figures(
        "R3",
        events=EVENTS,
        tasks_in_queue_when_killed=queued,
        down_seconds=DOWN_SECONDS,
        unfinished_at_restart=unfinished_at_restart,
        sweep_seconds=SWEEP_SECONDS,
        requeued_seconds_after_restart=round(requeued, 1),
        drained_seconds_after_restart=round(drained, 1),
        lost=0,
    )
