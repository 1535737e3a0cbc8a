"""R7 and CASES B27: outbound retries, dead letters, replay, and no double sends.

The worker, beat and web run as real processes; a loopback receiver stands
in for the ERP and fails or stalls on purpose. The ERP connection's breaker
threshold is raised so these tests watch the retry schedule alone (R9 covers
the breaker).
"""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest
import redis
from django.db import transaction

from integrations.models import Connection, OutboxMessage
from integrations.outbox import outbox_enqueue, outbox_message_replay
from operations.models import ExceptionCase
from tests.faults.conftest import record_figures, sized, wait_for

pytestmark = pytest.mark.e2e

FAILURES = int(sized(3, 9))
MAX_ATTEMPTS = int(sized(4, 10))


def _enqueue(key: str, *, sweeper_only: bool = False) -> OutboxMessage:
    with transaction.atomic():
        message = outbox_enqueue(
            destination_code="erp",
            type="order.held",
            subject=key,
            payload={"order_number": key},
            idempotency_key=key,
            correlation_id=key,
        )
        if sweeper_only:
            # Leave the wake-up to the beat sweeper, which reads the row's
            # next-attempt time: the path every retry takes.
            OutboxMessage.objects.filter(pk=message.pk).update(queued_at=None)
    return message


def _settled(pk: int, state: str):
    return lambda: OutboxMessage.objects.filter(pk=pk, state=state).first()


@pytest.fixture
def erp_for_retries(db) -> None:
    from operations.demo import demo_seed

    demo_seed()
    Connection.objects.filter(code="erp").update(
        max_attempts=MAX_ATTEMPTS, breaker_threshold=1000
    )


def test_message_is_delivered_on_the_attempt_after_the_last_failure(
    erp_for_retries, fault_env, start_hub, receivers
):
    erp = receivers("erp", respond=lambda n: 500 if n <= FAILURES else 202)
    start_hub(fault_env)

    message = _enqueue("r7-retry")
    sent = wait_for(_settled(message.pk, "delivered"), timeout=120, what="delivery")

    assert sent.attempts == FAILURES + 1
    assert erp.keys() == ["r7-retry"] * (FAILURES + 1)
    assert {d.webhook_id for d in erp.deliveries} == {"r7-retry"}
    assert [e["error"][:8] for e in sent.errors] == ["HTTP 500"] * FAILURES
    gaps = [b.at - a.at for a, b in itertools.pairwise(erp.deliveries)]
    # The schedule's lower bound (backoff base 0.5 s, cap 2 s in the test
    # profile): half the capped exponential ceiling of each attempt.
    floors = [min(2.0, 0.5 * 2 ** (n - 1)) / 2 for n in range(1, FAILURES + 1)]
    assert all(gap >= floor - 0.05 for gap, floor in zip(gaps, floors, strict=True))
    record_figures("R7-retry", failures=FAILURES, attempts=sent.attempts, gaps=gaps)


def test_dead_message_keeps_every_error_and_replays_exactly_once(
    erp_for_retries, fault_env, start_hub, receivers
):
    failing = threading.Event()
    failing.set()
    erp = receivers("erp", respond=lambda n: 503 if failing.is_set() else 202)
    start_hub(fault_env)

    message = _enqueue("r7-dead")
    dead = wait_for(_settled(message.pk, "dead"), timeout=180, what="dead letter")
    failing.clear()
    before_replay = len(erp.deliveries)
    assert outbox_message_replay(message_ids=[message.pk]) == 1
    sent = wait_for(_settled(message.pk, "delivered"), timeout=60, what="replay")
    time.sleep(4)  # two sweeper periods: a second send would show by now

    assert dead.attempts == MAX_ATTEMPTS
    assert len(dead.errors) == MAX_ATTEMPTS
    assert all(e["error"].startswith("HTTP 503") for e in dead.errors)
    cases = ExceptionCase.objects.filter(kind="dead_letter", dedupe_key="dead:r7-dead")
    assert cases.count() == 1
    assert before_replay == MAX_ATTEMPTS
    assert len(erp.deliveries) == MAX_ATTEMPTS + 1
    replayed = erp.deliveries[-1]
    assert (replayed.key, replayed.webhook_id) == ("r7-dead", "r7-dead")
    assert sent.attempts == 1
    record_figures("R7-dead", max_attempts=MAX_ATTEMPTS, replay_sends=1)


class _Publishes(threading.Thread):
    """Records every task message pushed to a Redis server (MONITOR)."""

    _ETA = re.compile(r'"eta":\s*(null|"[^"]*")')

    def __init__(self, url: str):
        super().__init__(daemon=True)
        # No read timeout: MONITOR may sit idle between publishes.
        self.client = redis.Redis.from_url(url, socket_timeout=None)
        self.etas: list[str] = []
        self.tasks: list[str] = []

    def run(self) -> None:
        while True:
            try:
                with self.client.monitor() as monitor:
                    for command in monitor.listen():
                        self._record(command["command"].replace('\\"', '"'))
            except redis.TimeoutError:
                continue  # an idle spell; watch again
            except redis.ConnectionError:
                return  # the server was shut down at the end of the test

    def _record(self, text: str) -> None:
        if not text.upper().startswith("LPUSH"):
            return
        task = re.search(r'"task":\s*"([^"]+)"', text)
        self.tasks.append(task.group(1) if task else "")
        self.etas.extend(self._ETA.findall(text))


def test_b27_one_503_then_200_gives_exactly_two_sends_and_no_eta(
    erp_for_retries, fault_env, start_hub, receivers, own_redis
):
    env = {
        **fault_env,
        "CELERY_BROKER_URL": own_redis.url,
        "CELERY_VISIBILITY_TIMEOUT": "10",
    }
    erp = receivers("erp", respond=lambda n: 503 if n == 1 else 200)
    publishes = _Publishes(own_redis.url)
    publishes.start()
    start_hub(env)

    message = _enqueue("b27-once", sweeper_only=True)
    sent = wait_for(_settled(message.pk, "delivered"), timeout=90, what="delivery")
    time.sleep(12)  # past the visibility timeout: a re-delivered task would send

    assert erp.keys() == ["b27-once", "b27-once"]
    assert sent.attempts == 2
    # The sweeper queues its due messages in dispatch batches.
    assert "integrations.tasks.outbox_dispatch_many_task" in publishes.tasks
    assert publishes.etas and set(publishes.etas) == {"null"}
    record_figures(
        "B27-run1", sends=len(erp.deliveries), task_publishes=len(publishes.tasks)
    )


def test_b27_worker_killed_mid_post_ends_delivered_once(
    erp_for_retries, fault_env, start_hub, receivers, own_redis
):
    env = {
        **fault_env,
        "CELERY_BROKER_URL": own_redis.url,
        "CELERY_VISIBILITY_TIMEOUT": "10",
    }
    erp = receivers("erp", hold=threading.Event(), respond=lambda n: 200)
    hub = start_hub(env)

    message = _enqueue("b27-kill", sweeper_only=True)
    assert erp.in_flight.wait(60)
    hub.restart("worker", hard=True)
    erp.hold.set()
    hub.wait_for_worker()
    sent = wait_for(_settled(message.pk, "delivered"), timeout=90, what="delivery")
    time.sleep(12)  # past the visibility timeout: nothing more may arrive

    assert erp.keys() == ["b27-kill", "b27-kill"]
    assert {d.webhook_id for d in erp.deliveries} == {"b27-kill"}
    assert sent.attempts == 2
    assert OutboxMessage.objects.get(pk=message.pk).delivered_at == sent.delivered_at
    record_figures("B27-run2", sends=len(erp.deliveries), attempts=sent.attempts)
