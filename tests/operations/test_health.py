"""Operator endpoints and the demo stack's supervisor."""

from __future__ import annotations

import sys
import time

import pytest
from celery import current_app

from operations.stack import Stack

pytestmark = pytest.mark.django_db


def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
    }


def test_readyz_answers_503_naming_an_unreachable_broker(client, monkeypatch):
    monkeypatch.setitem(current_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")

    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unavailable"},
    }
    assert "127.0.0.1" not in response.content.decode()


class _SleeperStack(Stack):
    def _command(self, name: str) -> list[str]:
        return [sys.executable, "-c", "import time; time.sleep(60)"]


def test_supervisor_starts_a_process_again_after_it_dies(tmp_path):
    stack = _SleeperStack(hub_port=0, sim_base_port=0, env={}, log_dir=tmp_path)
    stack._spawn("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    stack.start_supervisor()
    try:
        deadline = time.monotonic() + 15
        while stack.restarts.get("worker") != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        replacement = stack.processes["worker"]

        assert stack.restarts == {"worker": 1}
        assert replacement.poll() is None
        assert (
            "[stack] worker exited with 3; restart 1"
            in (tmp_path / "worker.log").read_text()
        )
    finally:
        stack.stop()
    assert replacement.poll() is not None


def test_a_stack_refuses_to_start_on_a_port_already_in_use(tmp_path):
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        stack = Stack(hub_port=port, sim_base_port=0, env={}, log_dir=tmp_path)

        with pytest.raises(RuntimeError, match=f"port {port} on 127.0.0.1 is already"):
            stack.start()

    assert stack.processes == {}
