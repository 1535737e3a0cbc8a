"""What every stand-in system shares: its HTTP server, faults, state and sender.

A simulator answers the hub's signed ``POST /events`` deliveries, reacts to
them by queueing its own webhooks, and exposes a small unsigned control API
under ``/_control/`` for the tests and the demo. Subclasses only say which
event types they take (``event_handlers``) and which extra control verbs
they offer (``control_handlers``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import logging
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from integrations import signing
from integrations.simulators.sender import Outgoing, Sender, SendQueue

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_control/"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
MAX_BODY_BYTES = 5 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Options:
    """How one simulator process was started."""

    port: int
    hub_url: str
    connection: str
    secret: str
    verify_secret: str
    step_delay: float = 0.2
    seed: int = 1


@dataclasses.dataclass
class Faults:
    """The misbehaviour a test or the demo asked for."""

    latency_ms: int = 0
    fail_next: int = 0
    fail_status: int = 500
    down: bool = False
    repeat: int = 1
    reorder: bool = False


@dataclasses.dataclass(frozen=True)
class Incoming:
    """One event the hub delivered to ``/events``."""

    key: str
    type: str
    subject: str
    correlationid: str
    data: dict[str, Any]


class Refused(Exception):
    """A request the simulator will not act on, with the reason it answers."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


Reply = tuple[int, dict[str, Any]]


class Simulator:
    """A stand-in external system: subclass it and fill in the handlers."""

    name = "base"

    def __init__(self, options: Options) -> None:
        self.options = options
        self.lock = threading.Lock()
        self.faults = Faults()
        self.queue = SendQueue()
        self.sender = Sender(
            url=f"{options.hub_url.rstrip('/')}/integrations/inbound/"
            f"{options.connection}/",
            secret=options.secret,
            queue=self.queue,
            repeat=lambda: self.faults.repeat,
            # A system that is down sends nothing either.
            paused=lambda: self.faults.down,
        )
        # The run token keeps ids unique across restarts, so the hub never
        # mistakes a restarted simulator's new webhook for an old one.
        self.run_token = uuid.uuid4().hex[:8]
        self._numbers = itertools.count(1)
        self._clear_received()

    def event_handlers(self) -> dict[str, Callable[[Incoming], None]]:
        """Return the reaction to each event type this system accepts."""
        return {}

    def control_handlers(self) -> dict[str, Callable[[dict], dict]]:
        """Return extra ``POST /_control/<verb>`` handlers keyed by verb."""
        return {}

    def extra_state(self) -> dict[str, Any]:
        """Return subclass state for ``GET /_control/state``; call under the lock."""
        return {}

    def reset_extra(self) -> None:
        """Forget subclass state; called under the lock."""

    def start(self) -> None:
        """Start sending queued webhooks."""
        self.sender.start()

    def stop(self) -> None:
        """Stop sending; anything still queued is dropped and logged."""
        pending = len(self.queue)
        self.sender.stop()
        if pending:
            logger.warning("%s stopped with %s webhooks unsent", self.name, pending)

    def emit(
        self,
        *,
        type: str,  # noqa: A002 - mirrors the CloudEvents attribute name
        subject: str,
        correlationid: str,
        data: dict[str, Any],
        step: int = 0,
    ) -> str:
        """Queue one webhook ``step`` step-delays from now; return its id."""
        delay = step * self.options.step_delay
        number = next(self._numbers)
        message_id = f"{self.name}-{self.run_token}-{number:06d}"
        envelope = {
            "specversion": "1.0",
            "id": message_id,
            "source": f"{self.name}/{self.options.connection}",
            "type": type,
            "subject": subject,
            "time": (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)).isoformat(),
            "correlationid": correlationid,
            "datacontenttype": "application/json",
            "data": data,
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        self.queue.put(
            Outgoing(
                due=time.monotonic() + delay,
                seq=number,
                id=message_id,
                type=type,
                subject=subject,
                body=body,
            )
        )

        return message_id

    def respond(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one HTTP request (any method) on the simulator's port."""
        path = urlsplit(request.path).path
        if self.faults.down and not path.startswith(CONTROL_PREFIX):
            # Like a crashed process: the connection closes with no answer.
            request.close_connection = True
            return

        try:
            reply = self._route(request, path)
        except Refused as exc:
            reply = exc.status, {"error": exc.reason}
        except Exception:  # noqa: BLE001 - answer 500 rather than hang up
            logger.exception("%s failed on %s %s", self.name, request.command, path)
            reply = 500, {"error": "internal error"}
        _write_json(request, *reply)

    def _route(self, request: BaseHTTPRequestHandler, path: str) -> Reply:
        if path.startswith(CONTROL_PREFIX):
            return self._control(request, path.removeprefix(CONTROL_PREFIX))
        if request.command == "POST" and path == "/events":
            return self._events(request)
        return 404, {"error": f"no route for {request.command} {path}"}

    def state(self) -> dict[str, Any]:
        """Return everything received and sent, for ``GET /_control/state``."""
        with self.lock:
            snapshot = {
                "name": self.name,
                "connection": self.options.connection,
                "received": {t: list(rows) for t, rows in self.received.items()},
                "received_count": sum(len(rows) for rows in self.received.values()),
                "duplicates": self.duplicates,
                "duplicate_keys": list(self.duplicate_keys),
                "failures_injected": self.failures_injected,
                "rejected": dict(self.rejected),
                "config": dataclasses.asdict(self.faults),
                **self.extra_state(),
            }
        snapshot.update(self.sender.snapshot())
        snapshot["pending"] = len(self.queue)

        return snapshot

    def _clear_received(self) -> None:
        self.received: defaultdict[str, list[dict]] = defaultdict(list)
        self.seen_keys: set[str] = set()
        self.duplicates = 0
        self.duplicate_keys: list[str] = []
        self.failures_injected = 0
        self.rejected: Counter[str] = Counter()

    # The hub's deliveries.

    def _events(self, request: BaseHTTPRequestHandler) -> Reply:
        body = _read_body(request)
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        injected = self._injected_failure()
        if injected is not None:
            return injected

        try:
            self._verify(request, body)
            incoming = _incoming(request, body)
        except Refused as exc:
            with self.lock:
                self.rejected[str(exc.status)] += 1
            return exc.status, {"error": exc.reason}
        handler = self.event_handlers().get(incoming.type)
        if handler is None:
            with self.lock:
                self.rejected["422"] += 1
            return 422, {"error": f"unknown event type {incoming.type!r}"}

        return self._accept(incoming, handler)

    def _injected_failure(self) -> Reply | None:
        with self.lock:
            if self.faults.fail_next <= 0:
                return None
            self.faults.fail_next -= 1
            self.failures_injected += 1
            return self.faults.fail_status, {"error": "injected failure"}

    def _verify(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            signing.verify(
                [self.options.verify_secret],
                request.headers.get(signing.ID_HEADER, ""),
                request.headers.get(signing.TIMESTAMP_HEADER, ""),
                request.headers.get(signing.SIGNATURE_HEADER, ""),
                body,
            )
        except signing.SignatureError as exc:
            logger.warning("%s refused a delivery: %s", self.name, exc)
            raise Refused(str(exc), status=401) from exc

    def _accept(self, incoming: Incoming, handler: Callable[[Incoming], None]) -> Reply:
        """Run the reaction once per idempotency key; repeats change nothing.

        The key is claimed under the lock before the reaction runs, so two
        concurrent deliveries of the same key cannot both react.
        """
        with self.lock:
            if incoming.key in self.seen_keys:
                self.duplicates += 1
                self.duplicate_keys.append(incoming.key)
                return 200, {"id": incoming.key, "duplicate": True}
            self.seen_keys.add(incoming.key)

        try:
            handler(incoming)
        except Refused as exc:
            with self.lock:
                self.seen_keys.discard(incoming.key)
                self.rejected[str(exc.status)] += 1
            return exc.status, {"error": exc.reason}
        except Exception:
            # A reaction that broke did not happen: the hub's retry must run
            # it again rather than be told it is a duplicate.
            with self.lock:
                self.seen_keys.discard(incoming.key)
            raise

        with self.lock:
            self.received[incoming.type].append(
                {
                    "idempotency_key": incoming.key,
                    "subject": incoming.subject,
                    "correlationid": incoming.correlationid,
                    "data": incoming.data,
                }
            )
        logger.info("%s accepted %s %s", self.name, incoming.type, incoming.key)

        return 202, {"id": incoming.key, "duplicate": False}

    # The control API.

    def _control(self, request: BaseHTTPRequestHandler, verb: str) -> Reply:
        if request.client_address[0] not in LOOPBACK:
            return 403, {"error": "the control API answers loopback only"}
        if request.command == "GET" and verb == "state":
            return 200, self.state()
        handlers = {
            "config": self._control_config,
            "reset": self._control_reset,
            **self.control_handlers(),
        }
        handler = handlers.get(verb)
        if request.command != "POST" or handler is None:
            return 404, {"error": f"no control route {request.command} {verb}"}

        return 200, handler(_json_object(_read_body(request)))

    def _control_config(self, body: dict) -> dict:
        with self.lock:
            self.faults = faults_changed(self.faults, body)
            config = dataclasses.asdict(self.faults)
        self.queue.wake()
        logger.info("%s config now %s", self.name, config)

        return config

    def _control_reset(self, body: dict) -> dict:
        dropped = self.queue.clear()
        with self.lock:
            self.faults = Faults()
            self._clear_received()
            self.reset_extra()
        self.sender.reset_stats()

        return {"reset": True, "dropped": dropped}


def faults_changed(faults: Faults, changes: dict) -> Faults:
    """Return ``faults`` with ``changes`` applied, refusing unknown or bad values."""
    kinds = {f.name: f.type for f in dataclasses.fields(Faults)}
    unknown = sorted(set(changes) - set(kinds))
    if unknown:
        raise Refused("unknown config key(s): " + ", ".join(unknown), status=400)
    for name, value in changes.items():
        wanted = bool if kinds[name] == "bool" else int
        # bool is a subclass of int, so "true" must not pass as a count.
        if type(value) is not wanted or (wanted is int and value < 0):
            raise Refused(f"{name} must be a non-negative {wanted.__name__}", 400)
    if changes.get("repeat") == 0:
        raise Refused("repeat must be at least 1", status=400)

    return dataclasses.replace(faults, **changes)


def simulator_server(simulator: Simulator, port: int) -> ThreadingHTTPServer:
    """Bind the simulator's HTTP server on loopback (port 0 picks a free one)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = f"waybill-{simulator.name}-simulator"

        def do_GET(self) -> None:
            simulator.respond(self)

        def do_POST(self) -> None:
            simulator.respond(self)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug("%s %s", simulator.name, format % args)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def _read_body(request: BaseHTTPRequestHandler) -> bytes:
    length = int(request.headers.get("Content-Length") or 0)
    if length > MAX_BODY_BYTES:
        raise Refused("body too large", status=413)
    return request.rfile.read(length) if length else b""


def _json_object(body: bytes) -> dict:
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise Refused(f"body is not JSON: {exc}", status=400) from exc
    if not isinstance(document, dict):
        raise Refused("body must be a JSON object", status=400)
    return document


def _incoming(request: BaseHTTPRequestHandler, body: bytes) -> Incoming:
    """Read the hub's envelope; the Idempotency-Key header wins over the body id."""
    envelope = _json_object(body)
    key = request.headers.get("Idempotency-Key") or str(envelope.get("id") or "")
    data = envelope.get("data")
    if not key or not envelope.get("type") or not isinstance(data, dict):
        raise Refused("an event needs an id, a type and a data object", status=400)
    return Incoming(
        key=key,
        type=str(envelope["type"]),
        subject=str(envelope.get("subject") or ""),
        correlationid=str(envelope.get("correlationid") or ""),
        data=data,
    )


def _write_json(request: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
