"""R4: the test database goes away mid-ingest and comes back.

Only this test database is touched: new connections to it are refused
(``ALLOW_CONNECTIONS false``) and the backends connected to it are
terminated, for a few seconds, as a fast PostgreSQL restart would do.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection

from integrations.models import InboundMessage, OutboxMessage
from tests.faults.conftest import Sender, record_figures, sized, wait_for

pytestmark = pytest.mark.e2e

EVENTS = int(sized(300, 3000))
OUTAGE_SECONDS = float(sized(5, 15))


class _Outage:
    """Takes one database away and gives it back, through the maintenance DB."""

    def __init__(self) -> None:
        settings = connection.settings_dict
        self.name = settings["NAME"]
        self.dsn = (
            f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} "
            f"user={settings['USER'] or 'postgres'} dbname=postgres"
        )

    def begin(self) -> int:
        with psycopg.connect(self.dsn, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            terminated = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.name],
            ).fetchone()[0]
        return terminated

    def end(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


def _drained() -> bool:
    return not (
        InboundMessage.objects.exclude(state="processed").exists()
        or OutboxMessage.objects.exclude(state="delivered").exists()
    )


def test_database_loss_answers_503_and_loses_nothing(fault_env, start_hub, receivers):
    receivers("wms")
    hub = start_hub({**fault_env, "WAYBILL_REQUEUE_AFTER_SECONDS": "10"})
    worker_pid = hub.worker_pid
    numbers = [f"R4-{index:05d}" for index in range(EVENTS)]
    sender = Sender(hub.hub_url)
    results: list = []
    sending = threading.Thread(
        target=lambda: results.extend(sender.send_all(numbers)), daemon=True
    )
    outage = _Outage()

    sending.start()
    wait_for(
        lambda: InboundMessage.objects.count() >= EVENTS // 3,
        timeout=120,
        interval=0.1,
        what="a third of the events",
    )
    connection.close()
    terminated = outage.begin()
    time.sleep(OUTAGE_SECONDS)
    outage.end()
    back_at = time.monotonic()
    sending.join(timeout=300)
    wait_for(_drained, timeout=180, what="the backlog to drain")
    drained = time.monotonic() - back_at

    statuses = [status for result in results for status in result.statuses]
    refused = [result for result in results if 503 in result.statuses]
    accepted_ids = [result.message_id for result in results]
    assert len(results) == EVENTS
    assert terminated >= 1
    assert set(statuses) <= {200, 202, 503, 0}
    assert refused, "no request met the outage"
    assert all(result.retry_after for result in refused)
    assert None not in accepted_ids
    stored = set(InboundMessage.objects.values_list("pk", flat=True))
    assert set(accepted_ids) <= stored
    assert InboundMessage.objects.count() == EVENTS
    assert OutboxMessage.objects.filter(state="delivered").count() == EVENTS
    assert hub.worker_pid == worker_pid
    assert hub.processes["worker"].poll() is None
    record_figures(
        "R4",
        events=EVENTS,
        outage_seconds=OUTAGE_SECONDS,
        backends_terminated=terminated,
        answers_503=statuses.count(503),
        transport_errors=statuses.count(0),
        lost=0,
        drained_seconds_after_outage=round(drained, 1),
    )
