"""Fault-injection harness: the hub as real processes, a sender, receivers, faults.

Every test here runs the product the way production does (gunicorn, a
prefork Celery worker, beat, PostgreSQL and Redis), breaks one part on
purpose, and counts what came out. ``WAYBILL_FAULT_SCALE=chaos`` (``make
chaos``) runs the sizes RELIABILITY.md publishes; the default is the CI size.
Figures are printed and appended to ``<WAYBILL_VAR_DIR>/fault-figures.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction

from integrations import signing
from integrations.models import Connection
from integrations.outbox import outbox_enqueue
from operations.stack import Stack
from tests.e2e.conftest import (  # noqa: F401 - fixtures shared with e2e
    free_port_block,
    process_env,
    wait_for,
    worker,
)

SCALE = os.environ.get("WAYBILL_FAULT_SCALE", "ci")
SKUS = ["SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E", "SKU-F"]


def sized(ci: int | float, chaos: int | float) -> int | float:
    """Return the CI size, or the ``make chaos`` size under that scale."""
    return chaos if SCALE == "chaos" else ci


def record_figures(test: str, **figures: object) -> None:
    """Print a test's measured figures and keep them in the figures file."""
    line = json.dumps({"test": test, "scale": SCALE, **figures}, default=str)
    print(f"\nFIGURES {line}")
    with (Path(settings.VAR_DIR) / "fault-figures.jsonl").open("a") as out:
        out.write(line + "\n")


# --- the hub as processes ---------------------------------------------------


@dataclass
class Hub(Stack):
    """The web server, the workers and beat, without the simulators.

    "worker" is the hub's own worker (inbound, sweepers); each outbound
    bulkhead runs as "worker-<name>" (see ``operations.stack.worker_layout``).
    """

    # How many "ready." lines of each worker's log were already waited for.
    ready_seen: dict[str, int] = field(default_factory=dict)

    def start(self) -> None:
        """Start web, workers and beat; wait until the web answers and workers are up."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._spawn("web", self._web_command())
        self.spawn_workers()
        self._spawn("beat", self._beat_command())
        self._wait_for(f"{self.hub_url}/healthz")
        self.wait_for_worker()

    def restart(self, name: str, *, hard: bool = False) -> None:
        """Restart one process; "worker" restarts every worker of the hub.

        A test that kills "the worker" mid-send means whichever one holds
        the request, and each destination now has its own.
        """
        names = list(self.workers) if name == "worker" else [name]
        for each in names:
            super().restart(each, hard=hard)

    def wait_for_worker(
        self, *, names: list[str] | None = None, timeout: float = 60
    ) -> None:
        """Wait until each worker's log says "ready." once more than before."""
        deadline = time.monotonic() + timeout
        for name in names or list(self.workers):
            seen = self.ready_seen.get(name, 0)
            while self._ready_lines(name) <= seen:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready in {timeout} s")
                time.sleep(0.2)
            self.ready_seen[name] = seen + 1

    def _ready_lines(self, name: str) -> int:
        log = self.log_dir / f"{name}.log"
        return log.read_text(errors="replace").count(" ready.")

    @property
    def worker_pid(self) -> int:
        return self.processes["worker"].pid

    def worker_children(self) -> list[int]:
        """Return the pids of the worker's prefork pool children."""
        return children_of(self.worker_pid)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


def children_of(pid: int) -> list[int]:
    """Return the pids whose parent is ``pid``, read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


@pytest.fixture
def fault_env(process_env) -> dict[str, str]:  # noqa: F811 - the e2e fixture, extended
    """Return the child-process environment with the RELIABILITY test profile."""
    return {
        **process_env,
        "CELERY_VISIBILITY_TIMEOUT": "30",
        "WAYBILL_SWEEP_SECONDS": "2",
        "WAYBILL_REQUEUE_AFTER_SECONDS": "30",
        "LOG_LEVEL": "WARNING",
        # Generous: the tests load the machine, and a refused send must come
        # from the fault injected, not from a slow loopback answer.
        "WAYBILL_HTTP_TIMEOUT": "10",
    }


@pytest.fixture
def start_hub(tmp_path) -> Iterator[Callable[..., Hub]]:
    """Return a function that starts a hub with an environment; stop it after."""
    from operations.demo import demo_seed

    demo_seed()
    hubs: list[Hub] = []

    def start(env: dict[str, str]) -> Hub:
        port = free_port_block(1)
        hub = Hub(
            hub_port=port,
            sim_base_port=port,
            env=env,
            log_dir=tmp_path / f"hub-{len(hubs)}",
        )
        hubs.append(hub)
        hub.start()
        return hub

    yield start
    for hub in hubs:
        hub.stop()


# --- a receiver that records and misbehaves on request ------------------------


@dataclass
class Delivery:
    """One request as a fault receiver saw it."""

    key: str
    webhook_id: str
    at: float


@dataclass
class FaultReceiver:
    """A loopback HTTP receiver whose answer a test decides per request.

    ``respond(n)`` is called with the 1-based number of the request and
    returns the status to send; ``hold`` (when set) makes every request wait
    until it is released, so a test can kill the sender mid-request.
    ``delay`` is how many seconds each answer waits (a slow destination); it
    is read per request, so a test can slow the receiver down and back up.
    """

    respond: Callable[[int], int] = lambda n: 202
    deliveries: list[Delivery] = field(default_factory=list)
    hold: threading.Event | None = None
    delay: float = 0.0
    in_flight: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultReceiver:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def keys(self) -> list[str]:
        with self.lock:
            return [delivery.key for delivery in self.deliveries]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.deliveries.append(
                        Delivery(
                            self.headers.get("Idempotency-Key", ""),
                            self.headers.get(signing.ID_HEADER, ""),
                            time.time(),
                        )
                    )
                    number = len(receiver.deliveries)
                if receiver.hold is not None:
                    receiver.in_flight.set()
                    receiver.hold.wait(120)
                if receiver.delay:
                    time.sleep(receiver.delay)
                self._answer(receiver.respond(number))

            def _answer(self, status: int) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone; that is the test's point

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def receivers() -> Iterator[Callable[..., FaultReceiver]]:
    """Return a function that starts a receiver for a connection; stop all after."""
    started: list[FaultReceiver] = []

    def start(code: str, **options) -> FaultReceiver:
        receiver = FaultReceiver(**options).start()
        started.append(receiver)
        Connection.objects.filter(code=code).update(base_url=receiver.url)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


# --- the sender ---------------------------------------------------------------


def order_released(number: str, index: int) -> dict:
    """Return an ERP ``order.released`` CloudEvent that releases cleanly."""
    now = dt.datetime.now(dt.UTC)
    return {
        "specversion": "1.0",
        "id": f"evt-{number}",
        "source": "erp",
        "type": "order.released",
        "subject": number,
        "time": now.isoformat(),
        "correlationid": number,
        "data": {
            "order_number": number,
            "account_number": "ACME",
            "po_number": f"PO-{number}",
            "ship_from": "DC-EAST",
            "ship_to": "MAIN",
            "requested_date": (now.date() + dt.timedelta(days=7)).isoformat(),
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


@dataclass
class SendResult:
    """What the sender saw for one event: every status until a 2xx or give-up."""

    number: str
    statuses: list[int] = field(default_factory=list)
    retry_after: list[str] = field(default_factory=list)
    message_id: int | None = None


class Sender:
    """Posts signed ERP events to the hub from a few threads, like a partner would.

    A 503 or 429 is retried after ``Retry-After`` (capped, so tests stay
    short); a transport error is retried after a pause. Every status is kept.
    """

    def __init__(
        self,
        hub_url: str,
        *,
        threads: int = 8,
        retry_cap: float = 2.0,
        gate: BacklogGate | None = None,
    ):
        self.url = f"{hub_url}/integrations/inbound/erp/"
        self.secret = Connection.objects.get(code="erp").inbound_secret
        self.threads = threads
        self.retry_cap = retry_cap
        self.gate = gate
        self.sent = 0
        self.local = threading.local()

    def send_all(self, numbers: list[str], *, offset: int = 0) -> list[SendResult]:
        """Send one order event per number; return the results in order."""
        with ThreadPoolExecutor(self.threads) as pool:
            return list(
                pool.map(self.send_one, numbers, range(offset, offset + len(numbers)))
            )

    def send_one(self, number: str, index: int) -> SendResult:
        body = json.dumps(order_released(number, index)).encode()
        result = SendResult(number)
        if self.gate is not None:
            self.gate.wait()
        self.sent += 1
        for _ in range(200):
            status, retry_after, message_id = self._post(number, body)
            result.statuses.append(status)
            if 200 <= status < 300:
                result.message_id = message_id
                return result
            if status not in (0, 429, 503):
                return result
            result.retry_after.append(retry_after)
            time.sleep(min(float(retry_after or 0.5), self.retry_cap))
        return result

    def _post(self, number: str, body: bytes) -> tuple[int, str, int | None]:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        headers = {
            "Content-Type": "application/json",
            **signing.signed_headers(self.secret, f"m-{number}", body),
        }
        try:
            response = session.post(self.url, data=body, headers=headers, timeout=30)
        except requests.RequestException:
            return 0, "", None
        message_id = None
        if response.status_code in (200, 202):
            message_id = response.json()["message_id"]
        return (
            response.status_code,
            response.headers.get("Retry-After", ""),
            message_id,
        )


class BacklogGate(threading.Thread):
    """Holds senders back while more than ``bound`` messages wait in the hub.

    A partner simulator that paces itself to what the hub drains keeps the
    run about the fault, not about an ever-growing queue on a slow machine.
    The backlog is read by this one thread, every half second.
    """

    def __init__(self, *, bound: int):
        super().__init__(daemon=True)
        self.bound = bound
        self.open = threading.Event()
        self.open.set()
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from integrations.models import InboundMessage, OutboxMessage

        try:
            while not self.stopping.wait(0.5):
                waiting = (
                    InboundMessage.objects.filter(state="received").count()
                    + OutboxMessage.objects.filter(state="pending").count()
                )
                if waiting > self.bound:
                    self.open.clear()
                else:
                    self.open.set()
        finally:
            self.open.set()
            # This thread's own connection; left open it would keep the test
            # database from being dropped.
            connection.close()

    def wait(self) -> None:
        self.open.wait(120)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


# --- faults -------------------------------------------------------------------


class ChildKiller(threading.Thread):
    """SIGKILLs a random prefork child of a worker every few seconds."""

    def __init__(
        self,
        hub: Hub,
        *,
        kills: int,
        every: tuple[float, float],
        begin_when: Callable[[], bool] = lambda: True,
    ):
        super().__init__(daemon=True)
        self.hub = hub
        self.kills = kills
        self.every = every
        self.begin_when = begin_when
        self.killed: list[tuple[float, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.begin_when() and not self.stopping.wait(0.2):
            pass
        while len(self.killed) < self.kills and not self.stopping.is_set():
            if self.stopping.wait(random.uniform(*self.every)):
                return
            children = self.hub.worker_children()
            if not children:
                continue
            victim = random.choice(children)
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.killed.append((time.monotonic(), victim))


@dataclass
class OwnRedis:
    """A redis-server of the test's own on loopback, nothing kept on disk."""

    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "yes",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
                "--pidfile", str(self.directory / "redis.pid"),
            ],
            check=True,
        )  # fmt: skip
        wait_for(self.ping, timeout=10, interval=0.1, what="own redis-server")

    def ping(self) -> bool:
        return self.cli("PING") == "PONG"

    def cli(self, *command: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *command],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout.strip()

    def shutdown_nosave(self) -> None:
        """Stop this server the way a crash would: nothing written to disk."""
        self.cli("SHUTDOWN", "NOSAVE")
        wait_for(
            lambda: not self.ping(), timeout=10, interval=0.1, what="redis to stop"
        )


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    """Run a private redis-server on a free port from 6390; shut it down after."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = next(
        port for port in range(6390 + os.getpid() % 50, 6490) if _port_is_free(port)
    )
    directory = tmp_path / "redis"
    directory.mkdir()
    server = OwnRedis(port, directory)
    server.start()
    yield server
    if server.ping():
        server.shutdown_nosave()


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class ProbeProducer(threading.Thread):
    """Records one outbox message per destination every 1/rate seconds, by phase.

    Subjects and idempotency keys read ``<prefix>:<phase>:<code>:<n>``, so a
    test can measure each phase's delivery latency per destination (R9).
    """

    def __init__(self, *, prefix: str, rate: float, codes: tuple[str, ...]) -> None:
        super().__init__(daemon=True)
        self.prefix, self.rate, self.codes = prefix, rate, codes
        self.phase = "baseline"
        self.stopping = threading.Event()
        self.count = 0

    def run(self) -> None:
        try:
            while not self.stopping.wait(1 / self.rate):
                self._record_one_each()
        finally:
            db_connection.close()  # this thread's own connection

    def _record_one_each(self) -> None:
        self.count += 1
        for code in self.codes:
            key = f"{self.prefix}:{self.phase}:{code}:{self.count}"
            with transaction.atomic():
                outbox_enqueue(
                    destination_code=code,
                    type="r9.probe",
                    subject=key,
                    payload={"n": self.count},
                    idempotency_key=key,
                )


def p95(values: list[float]) -> float:
    """Return the 95th percentile of a list of latencies."""
    return statistics.quantiles(values, n=20)[-1]
