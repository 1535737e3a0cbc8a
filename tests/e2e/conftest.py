"""Real processes for end-to-end tests: a Celery worker, and the whole stack.

They run against the test database pytest-django created and the broker in
``CELERY_BROKER_URL`` (Redis in CI), so what they prove is what production
does: separate processes, real commits, real HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from operations.stack import WORKER_QUEUES, Stack


def free_port_block(size: int) -> int:
    """Return the first of ``size`` consecutive free loopback ports."""
    for start in range(20000 + os.getpid() % 2000 * 10, 60000, 10):
        if all(_port_free(start + offset) for offset in range(size)):
            return start
    raise RuntimeError("no free port block on loopback")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def process_env(transactional_db, tmp_path) -> dict[str, str]:
    """Return the environment child processes need to share the test database."""
    _purge_broker()
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "WAYBILL_VAR_DIR": str(Path(settings.VAR_DIR)),
        "WAYBILL_SWEEP_SECONDS": "2",
        # A task the broker lost is queued again by the sweeper this soon.
        "WAYBILL_REQUEUE_AFTER_SECONDS": "3",
        "WAYBILL_OUTBOX_BACKOFF_BASE": "0.5",
        "WAYBILL_OUTBOX_BACKOFF_CAP": "2",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "CONN_MAX_AGE": "0",
    }


def _purge_broker() -> None:
    """Drop tasks a previous run left in the test broker."""
    from portal.celery import app

    with app.connection_for_write() as conn:
        for queue in WORKER_QUEUES.split(","):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # noqa: BLE001, S110 - a queue that does not exist is empty
                pass


@pytest.fixture
def worker(process_env, tmp_path) -> Iterator[Path]:
    """Run one real Celery worker; yield the path of its log."""
    log_path = tmp_path / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker",
        "-Q", WORKER_QUEUES, "--concurrency", "2", "--loglevel", "INFO",
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
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_line(
    path: Path, text: str, process: subprocess.Popen, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"worker exited early:\n{path.read_text()[-3000:]}")
        if text in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"worker not ready in {timeout} s:\n{path.read_text()[-3000:]}")


@pytest.fixture
def stack(process_env, tmp_path) -> Iterator[Stack]:
    """Run the whole product: web, worker, beat and the three simulators."""
    from operations.demo import demo_seed

    base = free_port_block(5)
    settings_override = {"WAYBILL_SIM_BASE_PORT": base}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            settings,
            "WAYBILL_SIM_BASE_PORT",
            settings_override["WAYBILL_SIM_BASE_PORT"],
        )
        demo_seed()
    env = {**process_env, "WAYBILL_SIM_BASE_PORT": str(base)}
    running = Stack(
        hub_port=base,
        sim_base_port=base,
        env=env,
        log_dir=tmp_path / "logs",
        step_delay=0.02,
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def wait_for(
    predicate, *, timeout: float, interval: float = 0.5, what: str = "condition"
):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")
