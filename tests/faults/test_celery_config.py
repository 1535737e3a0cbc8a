"""The Celery settings RELIABILITY R15 requires, read from the live app."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from portal.celery import app

# Packages whose code publishes tasks; tests and the virtualenv are not.
_APP_PACKAGES = ("api", "integrations", "masterdata", "operations", "orders")
_APP_PACKAGES += ("portal", "shipments")


def test_three_visibility_timeouts_agree_and_outlast_the_hard_time_limit():
    conf = app.conf

    broker = conf.broker_transport_options["visibility_timeout"]
    backend = conf.result_backend_transport_options["visibility_timeout"]

    assert broker == backend == conf.visibility_timeout == 600
    assert conf.task_time_limit == 120
    assert conf.task_soft_time_limit == 100
    assert conf.visibility_timeout > conf.task_time_limit


def test_tasks_are_acknowledged_late_and_requeued_when_a_worker_dies():
    conf = app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_acks_on_failure_or_timeout is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_broker_connection_is_retried_without_end_and_publishes_retry_briefly():
    conf = app.conf

    assert conf.broker_connection_retry_on_startup is True
    assert conf.broker_connection_max_retries is None
    assert conf.task_publish_retry is True
    assert conf.task_publish_retry_policy == {
        "max_retries": 5,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 3,
    }


def test_worker_shuts_down_softly_and_keeps_state_in_the_database():
    conf = app.conf

    assert conf.worker_soft_shutdown_timeout == 30
    assert conf.worker_enable_soft_shutdown_on_idle is True
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_ignore_result is True
    assert conf.worker_max_tasks_per_child == 1000


def test_sweeper_requeue_period_outlasts_the_hard_time_limit():
    # A message is queued again only once its task could no longer be
    # running; a shorter period would send a slow message twice.
    assert settings.WAYBILL_REQUEUE_AFTER_SECONDS > app.conf.task_time_limit


def test_no_code_publishes_a_task_with_a_countdown_or_eta():
    # Redis runs a task twice when its countdown outlives the visibility
    # timeout (CASES B27); retry times live in the database instead.
    offenders = [
        f"{path}:{node.lineno}"
        for path in _application_sources()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if _delays_a_task(node)
    ]

    assert offenders == []


def test_the_delay_finder_recognises_each_form_of_delayed_publish():
    calls = [
        "task.apply_async(args=[1], countdown=30)",
        "app.send_task('x', eta=later)",
        "self.retry(exc=exc, countdown=5)",
        "task.signature(args=[1]).set(eta=later)",
    ]
    harmless = "data.update(reason_code='weather', eta=delivered_at)"

    found = [_delays_a_task(ast.parse(call).body[0].value) for call in calls]

    assert found == [True, True, True, True]
    assert _delays_a_task(ast.parse(harmless).body[0].value) is False


def test_production_redis_settings_are_documented():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()

    assert "appendonly yes" in readme
    assert "maxmemory-policy noeviction" in readme


def _delays_a_task(node: ast.AST) -> bool:
    """Return whether a call publishes a task with a countdown or an ETA.

    ``countdown`` only ever means a Celery delay; ``eta`` is also a field
    name in shipment payloads, so it counts only on publishing calls.
    """
    if not isinstance(node, ast.Call):
        return False
    names = {keyword.arg for keyword in node.keywords}
    if "countdown" in names:
        return True
    publishing = isinstance(node.func, ast.Attribute) and node.func.attr in {
        "apply_async",
        "send_task",
        "retry",
        "set",
        "signature",
    }
    return publishing and "eta" in names


def _application_sources() -> list[Path]:
    base = Path(settings.BASE_DIR)
    sources = [
        path
        for package in _APP_PACKAGES
        for path in (base / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    assert len(sources) > 20
    return sources


def test_a_worker_retries_a_lost_broker_at_least_every_second():
    # kombu's default backoff reaches 30 s; R3's recovery figure needs the
    # worker consuming again within a sweeper period of the broker's return.
    from portal.consumer import RETRY_INTERVALS

    assert app.conf.worker_consumer == "portal.consumer:PromptReconnectConsumer"
    assert RETRY_INTERVALS["interval_max"] <= 1
