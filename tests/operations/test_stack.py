"""The stack's workers: the hub's own, and one bulkhead per outbound queue."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations.models import Connection
from operations.stack import (
    Stack,
    WorkerSpec,
    outbound_groups_configured,
    worker_layout,
)

pytestmark = pytest.mark.django_db

FLAGS = [
    "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
]  # fmt: skip


def _celery(name: str, queues: str, concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "portal", "worker",
        "-n", f"{name}@%h", "-Q", queues, "--concurrency", str(concurrency),
        *FLAGS,
    ]  # fmt: skip


class _RecordingStack(Stack):
    """Keeps every command it is asked to start and runs a sleeper instead."""

    def __init__(self, **options) -> None:
        super().__init__(hub_port=0, sim_base_port=0, env={}, **options)
        self.started: list[tuple[str, list[str]]] = []

    def _spawn(self, name: str, command: list[str]) -> None:
        self.started.append((name, command))
        super()._spawn(name, [sys.executable, "-c", "import time; time.sleep(60)"])


def _connections() -> None:
    for code, kind in [("erp", "erp"), ("wms", "wms"), ("tms", "tms")]:
        Connection.objects.create(code=code, name=code.upper(), kind=kind)
    Connection.objects.create(code="carrier-ups", name="UPS", kind="carrier")
    Connection.objects.create(code="edi-x12", name="X12", kind="carrier")
    Connection.objects.create(code="p1", name="P1", kind="partner", queue="outbox.bulk")
    Connection.objects.create(code="p2", name="P2", kind="partner", queue="outbox.bulk")


def test_each_outbound_queue_gets_a_worker_and_carriers_share_one():
    _connections()

    assert worker_layout() == [
        WorkerSpec("hub", ("celery", "inbound"), 2),
        WorkerSpec("carriers", ("outbox.carrier-ups", "outbox.edi-x12"), 1),
        WorkerSpec("outbox.bulk", ("outbox.bulk",), 1),
        WorkerSpec("outbox.erp", ("outbox.erp",), 1),
        WorkerSpec("outbox.tms", ("outbox.tms",), 1),
        WorkerSpec("outbox.wms", ("outbox.wms",), 1),
    ]


def test_a_queue_shared_by_a_carrier_and_a_partner_keeps_a_worker_of_its_own():
    Connection.objects.create(code="c1", name="C1", kind="carrier", queue="outbox.mix")
    Connection.objects.create(code="p1", name="P1", kind="partner", queue="outbox.mix")

    names = [spec.name for spec in worker_layout()]

    assert names == ["hub", "outbox.erp", "outbox.mix", "outbox.tms", "outbox.wms"]


def test_configured_groups_and_concurrency_shape_the_outbound_workers(settings):
    _connections()
    settings.WAYBILL_OUTBOUND_GROUPS = (
        "systems=outbox.wms,outbox.tms ; edi=outbox.edi-x12"
    )
    settings.WAYBILL_OUTBOUND_CONCURRENCY = 3

    assert worker_layout() == [
        WorkerSpec("hub", ("celery", "inbound"), 2),
        WorkerSpec("carriers", ("outbox.carrier-ups",), 3),
        WorkerSpec("edi", ("outbox.edi-x12",), 3),
        WorkerSpec("outbox.bulk", ("outbox.bulk",), 3),
        WorkerSpec("outbox.erp", ("outbox.erp",), 3),
        WorkerSpec("systems", ("outbox.wms", "outbox.tms"), 3),
    ]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("outbox.erp", "is not name=queue,queue"),
        ("=outbox.erp", "is not name=queue,queue"),
        ("a b=outbox.erp", "is not name=queue,queue"),
        ("hub=outbox.erp", "is not name=queue,queue"),
        ("a=outbox.erp;a=outbox.wms", "is not name=queue,queue"),
        ("a=outbox.erp;b=outbox.erp", "outbox.erp already has a worker"),
        ("a=inbound", "inbound already has a worker"),
    ],
)
def test_malformed_outbound_groups_are_refused_with_the_part_at_fault(text, reason):
    with pytest.raises(ImproperlyConfigured, match=reason):
        outbound_groups_configured(text)


def test_the_stack_starts_one_named_worker_per_bulkhead(tmp_path):
    _connections()
    stack = _RecordingStack(log_dir=tmp_path)

    try:
        stack.spawn_workers()
    finally:
        stack.stop()

    assert stack.started == [
        ("worker", _celery("hub", "celery,inbound", 2)),
        (
            "worker-carriers",
            _celery("carriers", "outbox.carrier-ups,outbox.edi-x12", 1),
        ),
        ("worker-outbox.bulk", _celery("outbox.bulk", "outbox.bulk", 1)),
        ("worker-outbox.erp", _celery("outbox.erp", "outbox.erp", 1)),
        ("worker-outbox.tms", _celery("outbox.tms", "outbox.tms", 1)),
        ("worker-outbox.wms", _celery("outbox.wms", "outbox.wms", 1)),
    ]


def test_the_supervisor_restarts_a_crashed_outbound_worker_on_its_own_queue(tmp_path):
    _connections()
    stack = _RecordingStack(log_dir=tmp_path)
    stack.spawn_workers()
    others = {
        name: process.pid
        for name, process in stack.processes.items()
        if name != "worker-outbox.tms"
    }
    os.killpg(stack.processes["worker-outbox.tms"].pid, signal.SIGKILL)

    stack.start_supervisor()
    try:
        deadline = time.monotonic() + 15
        while not stack.restarts and time.monotonic() < deadline:
            time.sleep(0.2)
        running = dict(stack.processes)
    finally:
        stack.stop()

    assert stack.restarts == {"worker-outbox.tms": 1}
    assert stack.started[-1] == (
        "worker-outbox.tms",
        _celery("outbox.tms", "outbox.tms", 1),
    )
    assert {name: running[name].pid for name in others} == others
    assert all(process.poll() is not None for process in running.values())


def test_queue_and_group_names_never_merge_workers_or_replace_the_hubs(settings):
    Connection.objects.create(code="erp", name="ERP", kind="erp")
    Connection.objects.create(code="tms", name="TMS", kind="tms", queue="hub")
    Connection.objects.create(code="p1", name="P1", kind="partner", queue="carriers")
    Connection.objects.create(code="c1", name="C1", kind="carrier")
    Connection.objects.create(code="p2", name="P2", kind="partner", queue="x/y")
    Connection.objects.create(code="p3", name="P3", kind="partner", queue="x:y")
    settings.WAYBILL_OUTBOUND_GROUPS = "outbox.erp=outbox.wms"

    layout = worker_layout()

    assert layout == [
        WorkerSpec("hub", ("celery", "inbound"), 2),
        WorkerSpec("carriers", ("carriers",), 1),
        WorkerSpec("carriers-2", ("outbox.c1",), 1),
        WorkerSpec("hub-2", ("hub",), 1),
        WorkerSpec("outbox.erp", ("outbox.wms",), 1),
        WorkerSpec("outbox.erp-2", ("outbox.erp",), 1),
        # Every default connection's queue always has a worker.
        WorkerSpec("outbox.tms", ("outbox.tms",), 1),
        WorkerSpec("x-y", ("x/y",), 1),
        WorkerSpec("x-y-2", ("x:y",), 1),
    ]
    assert len({spec.process for spec in layout}) == len(layout)
