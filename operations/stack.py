"""Start and stop the whole product as real processes on loopback.

The demo and the end-to-end tests use the same stack: the web server
(gunicorn), the Celery workers of ``worker_layout`` (one for the hub's own
queues, and one per outbound bulkhead), Celery beat, and the stand-in ERP,
WMS and TMS. Each process inherits the environment given, so the stack runs
on the embedded defaults or on PostgreSQL and Redis alike.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django import db
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from integrations.models import Connection
from integrations.queues import HUB_QUEUES, outbox_queue_names
from integrations.seeding import DEFAULT_CONNECTIONS, demo_secret

WORKER_QUEUES = "celery,inbound," + ",".join(
    f"outbox.{spec['code']}" for spec in DEFAULT_CONNECTIONS
)

# The worker of the hub's own queues (inbound processing, beat's sweepers)
# and its pool size; the stack calls its process "worker".
HUB_WORKER = "hub"
HUB_CONCURRENCY = 2
# The shared worker of queues whose connections are all carriers.
CARRIER_GROUP = "carriers"


@dataclass(frozen=True)
class WorkerSpec:
    """One Celery worker of the layout: its name, its queues, its pool size."""

    name: str
    queues: tuple[str, ...]
    concurrency: int

    @property
    def process(self) -> str:
        """Return the stack's name for the process, also its log file's."""
        if self.name == HUB_WORKER:
            return "worker"
        return f"worker-{self.name}"

    @property
    def nodename(self) -> str:
        """Return the worker's Celery node name (``-n``), distinct per worker."""
        return f"{self.name}@%h"


def worker_layout() -> list[WorkerSpec]:
    """Return the workers that together consume every queue, the hub's first.

    Each outbound queue is a bulkhead: a worker of its own with
    ``WAYBILL_OUTBOUND_CONCURRENCY`` processes, so a destination that answers
    slowly holds only those and never the ERP's or the hub's. Queues whose
    connections are all carriers share one worker, and
    ``WAYBILL_OUTBOUND_GROUPS`` puts the queues it names on shared workers.
    Read from the database, like the queue list.
    """
    groups = outbound_groups_configured(settings.WAYBILL_OUTBOUND_GROUPS)
    grouped = {queue for queues in groups.values() for queue in queues}
    carriers = _carrier_only_queues()
    # A generated name never joins a worker it does not belong to: a queue
    # called "hub" or "carriers", a group named after an outbound queue, or
    # two queues that differ only in characters a node name cannot hold each
    # get a name of their own.
    taken = {HUB_WORKER, *groups}
    carrier_worker = ""
    for queue in outbox_queue_names():
        if queue in grouped:
            continue
        if queue in carriers:
            carrier_worker = carrier_worker or _unique(CARRIER_GROUP, taken=taken)
            groups.setdefault(carrier_worker, []).append(queue)
        else:
            groups[_unique(_safe_name(queue), taken=taken)] = [queue]

    concurrency = settings.WAYBILL_OUTBOUND_CONCURRENCY
    outbound = [
        WorkerSpec(name, tuple(queues), concurrency)
        for name, queues in sorted(groups.items())
    ]
    return [WorkerSpec(HUB_WORKER, HUB_QUEUES, HUB_CONCURRENCY), *outbound]


def outbound_groups_configured(text: str) -> dict[str, list[str]]:
    """Return the shared outbound workers a ``WAYBILL_OUTBOUND_GROUPS`` names.

    The text is ``name=queue,queue;name=queue``; a queue may be in one
    group only, and no group may take the hub's name or queues.
    """
    groups: dict[str, list[str]] = {}
    seen: set[str] = set()
    for part in filter(None, (part.strip() for part in text.split(";"))):
        name, _, listed = (item.strip() for item in part.partition("="))
        queues = [queue.strip() for queue in listed.split(",") if queue.strip()]
        fresh = name not in (HUB_WORKER, *groups)
        if not (name and queues and fresh) or name != _safe_name(name):
            raise ImproperlyConfigured(
                f"WAYBILL_OUTBOUND_GROUPS: {part!r} is not name=queue,queue "
                "with a new name of letters, digits, '.', '_' or '-'"
            )
        taken = (seen | set(HUB_QUEUES)).intersection(queues)
        if taken:
            raise ImproperlyConfigured(
                f"WAYBILL_OUTBOUND_GROUPS: {', '.join(sorted(taken))} "
                "already has a worker"
            )
        seen.update(queues)
        groups[name] = queues
    return groups


def _carrier_only_queues() -> set[str]:
    """Return the outbound queues that only carrier connections use."""
    kinds: dict[str, set[str]] = {}
    try:
        rows = Connection.objects.values_list("code", "queue", "kind")
        for code, queue, kind in rows:
            kinds.setdefault(queue or f"outbox.{code}", set()).add(kind)
    except DatabaseError:
        # A database that is not migrated yet has no carriers.
        return set()
    carrier = {Connection.Kind.CARRIER.value}
    return {queue for queue, found in kinds.items() if found == carrier}


def _unique(name: str, *, taken: set[str]) -> str:
    """Return ``name``, or ``name-2``, ``name-3``... if taken; mark it taken."""
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _safe_name(text: str) -> str:
    """Return ``text`` fit for a node name and a log file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", text)


@dataclass
class Stack:
    """A set of running processes; use ``stack_running`` to start and stop one."""

    hub_port: int
    sim_base_port: int
    env: dict[str, str]
    log_dir: Path
    step_delay: float = 0.05
    supervise: bool = False
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # The workers started, by process name (see ``WorkerSpec.process``).
    workers: dict[str, WorkerSpec] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    _supervisor: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    def sim_url(self, code: str) -> str:
        """Return the base URL of the simulator behind a connection."""
        offset = next(
            s["port_offset"] for s in DEFAULT_CONNECTIONS if s["code"] == code
        )
        return f"http://127.0.0.1:{self.sim_base_port + offset}"

    def start(self) -> None:
        """Start every process and wait until each answers."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._check_ports_free()
        self._spawn("web", self._web_command())
        self.spawn_workers()
        self._spawn("beat", self._beat_command())
        for spec in DEFAULT_CONNECTIONS:
            self._spawn(spec["code"], self._simulator_command(spec["code"]))
        self._wait_for(f"{self.hub_url}/healthz")
        for spec in DEFAULT_CONNECTIONS:
            self._wait_for(self.sim_url(spec["code"]) + "/_control/state")
        if self.supervise:
            self.start_supervisor()

    def _check_ports_free(self) -> None:
        """Refuse to start on a port something else already answers on.

        Otherwise the new web server fails to bind while the simulators send
        their webhooks to whatever holds the port.
        """
        ports = [self.hub_port] + [
            int(self.sim_url(spec["code"]).rsplit(":", 1)[1])
            for spec in DEFAULT_CONNECTIONS
        ]
        for port in ports:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(
                        f"port {port} on 127.0.0.1 is already in use; stop what "
                        "holds it or choose other ports (DEMO_HUB_PORT, "
                        "WAYBILL_SIM_BASE_PORT)"
                    )

    def spawn_workers(self) -> None:
        """Start one Celery worker per entry of the current ``worker_layout``."""
        for spec in worker_layout():
            self.workers[spec.process] = spec
            self._spawn(spec.process, self._worker_command(spec))

    def start_supervisor(self) -> None:
        """Watch the processes from a background thread until ``stop``."""
        self._supervisor = threading.Thread(
            target=self._watch, name="stack-supervisor", daemon=True
        )
        self._supervisor.start()

    def _watch(self) -> None:
        """Start again any process that exits while the stack runs.

        A crashed worker or simulator would otherwise leave the demo silently
        half-alive; each restart is counted and written to the process log.
        """
        try:
            self._watch_until_stopped()
        finally:
            # A worker's restart reads the layout from the database on this
            # thread's own connection; left open it would outlive the stack.
            db.connections.close_all()

    def _watch_until_stopped(self) -> None:
        while not self._stopping.wait(2.0):
            for name, process in list(self.processes.items()):
                if process.poll() is None or self._stopping.is_set():
                    continue
                count = self.restarts.get(name, 0) + 1
                with (self.log_dir / f"{name}.log").open("a") as log:
                    log.write(
                        f"\n[stack] {name} exited with {process.returncode}; "
                        f"restart {count}\n"
                    )
                self._spawn(name, self._command(name))
                # Counted once the new process is in place, so a reader that
                # sees the count also sees the replacement.
                self.restarts[name] = count

    def stop(self) -> None:
        """Stop every process: SIGTERM, then SIGKILL after a grace period."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def restart(self, name: str, *, hard: bool = False) -> None:
        """Stop one process (SIGKILL when ``hard``) and start it again."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
        process.wait(timeout=30)
        self._spawn(name, self._command(name))

    def _command(self, name: str) -> list[str]:
        commands = {"web": self._web_command, "beat": self._beat_command}
        if name in commands:
            return commands[name]()
        if name in self.workers:
            return self._worker_command(self._worker_spec(name))
        return self._simulator_command(name)

    def _worker_spec(self, name: str) -> WorkerSpec:
        """Return a worker's spec as the layout has it now, else as started.

        Read when the worker (re)starts, so a queue set in the admin since is
        consumed; a queue that needs a new worker waits for the next start.
        """
        current = {spec.process: spec for spec in worker_layout()}
        self.workers[name] = current.get(name, self.workers[name])
        return self.workers[name]

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _web_command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "portal.wsgi",
            "--bind", f"127.0.0.1:{self.hub_port}",
            "--workers", "2", "--threads", "4", "--graceful-timeout", "5",
        ]  # fmt: skip

    def _worker_command(self, spec: WorkerSpec) -> list[str]:
        # Acks late, prefetch and time limits come from the settings.
        return [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "-n", spec.nodename, "-Q", ",".join(spec.queues),
            "--concurrency", str(spec.concurrency), "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip

    def _beat_command(self) -> list[str]:
        schedule = self.log_dir / "celerybeat-schedule"
        return [
            sys.executable, "-m", "celery", "-A", "portal", "beat",
            "--loglevel", "INFO", "--schedule", str(schedule),
        ]  # fmt: skip

    def _simulator_command(self, code: str) -> list[str]:
        port = self.sim_url(code).rsplit(":", 1)[1]
        return [
            sys.executable, "-m", "integrations.simulators", code,
            "--port", port,
            "--hub-url", self.hub_url,
            "--connection", code,
            "--secret", demo_secret("demo", code, "inbound"),
            "--verify-secret", demo_secret("demo", code, "outbound"),
            "--step-delay", str(self.step_delay),
        ]  # fmt: skip

    def _wait_for(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(
            f"{url} did not answer within {timeout} s; logs in {self.log_dir}"
        )

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = self.log_dir / f"{name}.log"
                raise RuntimeError(
                    f"{name} exited with {process.returncode}; see {log}"
                )


@contextlib.contextmanager
def stack_running(
    *, hub_port: int, sim_base_port: int, env: dict[str, str], log_dir: Path, **options
) -> Iterator[Stack]:
    """Run a stack for the duration of a ``with`` block."""
    stack = Stack(
        hub_port=hub_port,
        sim_base_port=sim_base_port,
        env=env,
        log_dir=log_dir,
        **options,
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
