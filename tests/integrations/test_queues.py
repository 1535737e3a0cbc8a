"""The queue list workers are started with covers every connection."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from integrations.models import Connection
from integrations.queues import worker_queues

pytestmark = pytest.mark.django_db


def test_worker_queues_cover_each_connections_queue_once():
    Connection.objects.create(code="erp", name="ERP", kind="erp")
    Connection.objects.create(code="p1", name="P1", kind="partner", queue="outbox.bulk")
    Connection.objects.create(code="p2", name="P2", kind="partner", queue="outbox.bulk")
    Connection.objects.create(code="p3", name="P3", kind="partner")

    queues = worker_queues()

    assert queues == (
        "celery,inbound,outbox.bulk,outbox.erp,outbox.p3,outbox.tms,outbox.wms"
    )


def test_worker_queues_command_prints_the_list(capsys):
    Connection.objects.create(code="p1", name="P1", kind="partner", queue="outbox.x")

    call_command("worker_queues")

    assert capsys.readouterr().out == (
        "celery,inbound,outbox.erp,outbox.tms,outbox.wms,outbox.x\n"
    )


def test_worker_queues_layout_prints_one_worker_a_line(capsys):
    Connection.objects.create(code="carrier-ups", name="UPS", kind="carrier")
    Connection.objects.create(code="p1", name="P1", kind="partner", queue="outbox.x")

    call_command("worker_queues", "--layout")

    assert capsys.readouterr().out.splitlines() == [
        "hub celery,inbound 2",
        "carriers outbox.carrier-ups 1",
        "outbox.erp outbox.erp 1",
        "outbox.tms outbox.tms 1",
        "outbox.wms outbox.wms 1",
        "outbox.x outbox.x 1",
    ]
