"""Real simulator processes and a stand-in hub, all on loopback.

Every test starts the simulator it needs as a subprocess on a free port
(``--port 0``; the ready line tells which) and points it at a small
ThreadingHTTPServer that plays the hub: it verifies each webhook's signature,
records the delivery, and answers as scripted (202 for new ids, 200 for
repeats, or a status the test queued).
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations import signing

REPO = Path(__file__).resolve().parents[2]
HUB_INBOUND_SECRET = "test-hub-inbound-secret"
HUB_SIGNING_SECRET = "test-hub-outbound-secret"
READY = re.compile(r"^ready (erp|wms|tms) (http://127\.0\.0\.1:\d+)$")
DROP = "drop"


def wait_until(check: Callable[[], Any], *, timeout: float = 10, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Delivery:
    """One request the stand-in hub received, and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    at: float

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class StandInHub:
    """Record signed webhooks; answer 202 once per id, 200 for repeats."""

    deliveries: list[Delivery] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer_next(self, *answers: int | str | tuple[int, dict]) -> None:
        """Queue answers for the next requests: a status, (status, headers) or DROP."""
        with self.lock:
            self.script.extend(answers)

    def accepted(self) -> list[dict]:
        """Return the events answered 202, in arrival order."""
        with self.lock:
            return [d.event for d in self.deliveries if d.status == 202]

    def wait_for_accepted(self, count: int, timeout: float = 10) -> list[dict]:
        """Wait until ``count`` events were accepted; return them."""
        wait_until(
            lambda: len(self.accepted()) >= count,
            timeout=timeout,
            what=f"{count} accepted webhooks (have {len(self.accepted())})",
        )
        return self.accepted()

    def receive(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        with self.lock:
            answer = self.script.popleft() if self.script else None
        if answer == DROP:
            self._record(request, body, None)
            request.close_connection = True
            return

        status, headers = self._decide(request, body, answer)
        self._record(request, body, status)
        request.send_response(status)
        for name, value in {"Content-Length": "2", **headers}.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(b"{}")

    def _decide(self, request, body: bytes, answer) -> tuple[int, dict]:
        try:
            signing.verify(
                [HUB_INBOUND_SECRET],
                request.headers.get("webhook-id", ""),
                request.headers.get("webhook-timestamp", ""),
                request.headers.get("webhook-signature", ""),
                body,
            )
        except signing.SignatureError:
            return 401, {}
        if isinstance(answer, int):
            return answer, {}
        if isinstance(answer, tuple):
            return answer
        with self.lock:
            first = request.headers["webhook-id"] not in self.seen
            self.seen.add(request.headers["webhook-id"])
        return (202 if first else 200), {}

    def _record(self, request, body: bytes, status: int | None) -> None:
        delivery = Delivery(
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            status=status,
            at=time.monotonic(),
        )
        with self.lock:
            self.deliveries.append(delivery)


@pytest.fixture
def hub() -> Iterator[StandInHub]:
    """Run a stand-in hub on a free loopback port."""
    stand_in = StandInHub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            stand_in.receive(self)

        def log_message(self, *args) -> None:
            pass

    stand_in.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.server.daemon_threads = True
    thread = threading.Thread(target=stand_in.server.serve_forever, args=(0.05,))
    thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()
    thread.join(5)


@dataclass
class RunningSimulator:
    """A simulator process and the calls a test makes to it."""

    name: str
    url: str
    process: subprocess.Popen

    def control(self, verb: str, body: dict | None = None) -> requests.Response:
        return requests.post(f"{self.url}/_control/{verb}", json=body or {}, timeout=5)

    def state(self) -> dict:
        return requests.get(f"{self.url}/_control/state", timeout=5).json()

    def deliver(
        self,
        event_type: str,
        data: dict,
        *,
        key: str | None = None,
        subject: str = "",
        secret: str = HUB_SIGNING_SECRET,
        tamper: bool = False,
    ) -> requests.Response:
        """POST one event to /events as the hub's outbox does, signed."""
        key = key or f"{event_type}:{uuid.uuid4()}"
        envelope = {
            "id": key,
            "type": event_type,
            "subject": subject or data.get("order_number", ""),
            "correlationid": data.get("order_number", ""),
            "data": data,
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key,
            **signing.signed_headers(secret, key, body),
        }
        if tamper:
            # Change one byte after signing (the order number's first letter).
            at = body.index(b'"order_number":"') + len(b'"order_number":"')
            body = body[:at] + bytes([body[at] + 1]) + body[at + 1 :]
        return requests.post(
            f"{self.url}/events", data=body, headers=headers, timeout=5
        )

    def stop(self) -> int:
        """SIGTERM the process and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@pytest.fixture
def start_simulator(hub, tmp_path) -> Iterator[Callable[..., RunningSimulator]]:
    """Return a function that starts a simulator process against the hub."""
    started: list[RunningSimulator] = []

    def start(name: str, *extra: str) -> RunningSimulator:
        command = [
            sys.executable, "-m", "integrations.simulators", name,
            "--port", "0",
            "--hub-url", hub.url,
            "--connection", name,
            "--secret", HUB_INBOUND_SECRET,
            "--verify-secret", HUB_SIGNING_SECRET,
            "--step-delay", "0.01",
            *extra,
        ]  # fmt: skip
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True
        )
        simulator = RunningSimulator(
            name, _ready_url(process, tmp_path / f"{name}.log"), process
        )
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            simulator.stop()


def _ready_url(process: subprocess.Popen, log: Path, timeout: float = 15) -> str:
    """Read the process's ready line within the timeout; return its URL."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline().strip() if ready else ""
    match = READY.match(line)
    if match is None:
        process.kill()
        process.wait()
        raise AssertionError(f"no ready line (got {line!r}); log: {log.read_text()}")
    return match.group(2)
