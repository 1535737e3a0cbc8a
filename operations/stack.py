"""Start and stop the whole product as real processes on loopback.

The demo and the end-to-end tests use the same stack: the web server
(gunicorn), a Celery worker on every queue, Celery beat, and the stand-in
ERP, WMS and TMS. Each process inherits the environment given, so the stack
runs on the embedded defaults or on PostgreSQL and Redis alike.
"""

from __future__ import annotations

import contextlib
import os
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
from django.conf import settings

from integrations.queues import worker_queues
from integrations.seeding import DEFAULT_CONNECTIONS, demo_secret

WORKER_QUEUES = "celery,inbound," + ",".join(
    f"outbox.{spec['code']}" for spec in DEFAULT_CONNECTIONS
)


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
        self._spawn("worker", self._worker_command())
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
        commands = {
            "web": self._web_command,
            "worker": self._worker_command,
            "beat": self._beat_command,
        }
        if name in commands:
            return commands[name]()
        return self._simulator_command(name)

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

    def _worker_command(self) -> list[str]:
        # Read when the worker (re)starts, so every connection's own queue,
        # including one set in the admin, is consumed.
        return [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "-Q", worker_queues(), "--concurrency", "2", "--loglevel", "INFO",
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
