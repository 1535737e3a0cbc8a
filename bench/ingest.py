"""Ingest benchmark: the whole pipeline beside a raw batched INSERT, same run.

The product side accepts ERP ``order.released`` events through the service
the bulk inbound endpoint calls (``inbound_batch_accept``, 1,000 per batch,
without the HTTP and signature layer), and real Celery worker processes
take them in tasks of ``WAYBILL_INBOUND_BATCH_SIZE`` messages, parse them,
apply them (order, lines, reservation, status projection; runs of releases
set-based, see ``orders.bulk``) and write one outbox row each. The clock
stops when every event is applied. The outbox rows are left pending:
sending them is a separate, HTTP-bound path with its own queue.

The baseline inserts the same message ids and bodies into a plain table in
the same database, 1,000 rows per multi-row ``INSERT ... ON CONFLICT DO
NOTHING`` statement, one commit per batch. Building the event bodies is
inside both clocks.

Run it with ``make bench-ingest`` (``BENCH_EVENTS``, default 100,000;
``BENCH_DATABASE_URL``, a database it drops and re-creates;
``CELERY_BROKER_URL``, a Redis database it may purge).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BATCH = 1000
_RAW_INSERT = (
    "INSERT INTO bench_raw_inbound"
    " (connection_id, message_id, body, sha256, received_at, state)"
    " VALUES {values} ON CONFLICT DO NOTHING"
)
ROOT = Path(__file__).resolve().parent.parent
SKUS = ["SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E", "SKU-F"]


def event_body(index: int, *, prefix: str) -> tuple[str, bytes]:
    """Return (message id, body) of one order.released event."""
    number = f"{prefix}-{index:07d}"
    today = dt.datetime.now(dt.UTC)
    envelope = {
        "specversion": "1.0",
        "id": f"evt-{number}",
        "source": "erp",
        "type": "order.released",
        "subject": number,
        "time": today.isoformat(),
        "correlationid": number,
        "data": {
            "order_number": number,
            "account_number": "ACME",
            "po_number": f"PO-{number}",
            "ship_from": "DC-EAST",
            "ship_to": "MAIN",
            "requested_date": (today.date() + dt.timedelta(days=7)).isoformat(),
            "lines": [
                {
                    "line_number": 1,
                    "sku": SKUS[index % len(SKUS)],
                    "quantity": "1",
                    "unit": "EA",
                }
            ],
        },
    }
    return f"m-{number}", json.dumps(envelope, separators=(",", ":")).encode()


def pipeline_run(*, events: int, prefix: str, timeout: float) -> float:
    """Accept ``events`` in batches and wait until all are applied; return seconds.

    Expects a worker consuming the ``inbound`` queue on the same database.
    """
    from integrations.models import Connection, InboundMessage
    from integrations.services import inbound_batch_accept

    erp = Connection.objects.get(code="erp")
    started = time.perf_counter()
    for first in range(0, events, BATCH):
        items = [
            event_body(index, prefix=prefix)
            for index in range(first, min(first + BATCH, events))
        ]
        inbound_batch_accept(connection=erp, items=items)

    ours = InboundMessage.objects.filter(message_id__startswith=f"m-{prefix}-")
    deadline = started + timeout
    while ours.exclude(state="processed").exists():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"pipeline not done in {timeout} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def raw_insert_run(*, events: int, prefix: str) -> float:
    """Insert the same ids and bodies with batched plain SQL; return seconds."""
    import hashlib

    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_inbound ("
            " id bigserial PRIMARY KEY, connection_id bigint NOT NULL,"
            " message_id varchar(200) NOT NULL, body bytea NOT NULL,"
            " sha256 varchar(64) NOT NULL, received_at timestamptz NOT NULL,"
            " state varchar(20) NOT NULL, UNIQUE (connection_id, message_id))"
        )
    started = time.perf_counter()
    for first in range(0, events, BATCH):
        params: list[object] = []
        for index in range(first, min(first + BATCH, events)):
            message_id, body = event_body(index, prefix=prefix)
            params += [1, message_id, body, hashlib.sha256(body).hexdigest()]
        # One multi-row statement per batch, as DESIGN §15 measured it; the
        # statement holds placeholders only.
        row = "(%s, %s, %s, %s, now(), 'received')"
        sql = _RAW_INSERT.format(values=", ".join([row] * (len(params) // 4)))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    return time.perf_counter() - started


def machine() -> str:
    """Describe the machine the figures come from."""
    from django.db import connection

    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    python = platform.python_version()
    return f"{os.cpu_count()} CPU ({cpu}), Python {python}, PostgreSQL {server}"


def report(*, events: int, pipeline: float, raw: float) -> str:
    """Return the figures as printed lines."""
    pipeline_rate = events / pipeline
    raw_rate = events / raw
    return "\n".join(
        [
            f"events: {events}",
            f"pipeline (accept, process, project, outbox): {pipeline:.1f} s, "
            f"{pipeline_rate:,.0f} events/s",
            f"raw batched INSERT: {raw:.2f} s, {raw_rate:,.0f} rows/s",
            f"ratio pipeline/raw: {pipeline_rate / raw_rate:.4f}",
            f"machine: {machine()}",
        ]
    )


def _prepare_database(url: str) -> None:
    """Drop and re-create the benchmark database, then migrate and seed it."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    admin = admin.replace("postgres://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        check=True,
    )


def _start_worker(concurrency: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "inbound",
        "--concurrency", str(concurrency), "--loglevel", "WARNING",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    log_dir = Path(os.environ.get("WAYBILL_VAR_DIR", ROOT / "var"))
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "bench-worker.log").open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def main() -> None:
    """Prepare the database, start the workers, run both sides, print figures."""
    events = int(os.environ.get("BENCH_EVENTS", "100000"))
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waybill_bench"
    )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("CONN_MAX_AGE", "60")
    _prepare_database(url)

    import django

    django.setup()
    from operations.demo import demo_seed
    from portal.celery import app

    demo_seed()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("inbound")
    worker = _start_worker(int(os.environ.get("BENCH_CONCURRENCY", "2")))
    try:
        time.sleep(5)  # the worker's start-up is not part of the figure
        pipeline = pipeline_run(events=events, prefix="B", timeout=events * 0.5 + 60)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    raw = raw_insert_run(events=events, prefix="B")
    print(report(events=events, pipeline=pipeline, raw=raw))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
