"""A connection's own Celery queue is consumed by a worker the stack would start."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from integrations.models import Connection, OutboxMessage
from integrations.outbox import outbox_enqueue
from integrations.queues import worker_queues
from tests.e2e.conftest import _wait_for_line, wait_for
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e

QUEUE = "outbox.slow-partners"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def partner(process_env, receiver) -> Connection:
    return Connection.objects.create(
        code="partner-q",
        name="Partner on its own queue",
        kind="partner",
        base_url=receiver.url,
        outbound_auth="none",
        queue=QUEUE,
    )


def _purge(queue: str) -> None:
    from portal.celery import app

    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_purge(queue)
        except Exception:  # noqa: BLE001, S110 - a queue that does not exist is empty
            pass


@pytest.fixture
def stack_worker(partner, process_env, tmp_path) -> Iterator[Path]:
    """Start a worker exactly as the stack does: queues read at start."""
    _purge(QUEUE)
    log_path = tmp_path / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker",
        "-Q", worker_queues(), "--concurrency", "1", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_line(log_path, "ready.", process)
        yield log_path
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_message_on_a_custom_queue_is_delivered_by_the_started_worker(
    partner, receiver, stack_worker
):
    assert QUEUE in worker_queues().split(",")

    with transaction.atomic():
        message = outbox_enqueue(
            destination_code=partner.code,
            type="shipment.status_changed",
            subject="SH-Q",
            payload={"shipment_number": "SH-Q"},
            idempotency_key="queue-override-1",
        )

    delivered = wait_for(
        lambda: OutboxMessage.objects.filter(pk=message.pk, state="delivered").first(),
        timeout=30,
        what="the worker to deliver the message from its own queue",
    )
    assert delivered.attempts == 1
    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [
        "queue-override-1"
    ]
    assert QUEUE in stack_worker.read_text()
