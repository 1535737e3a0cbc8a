"""Per-connection retry policy and status-code etiquette (RELIABILITY R8)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from integrations.models import Connection, OutboxMessage
from integrations.outbox import (
    outbox_backoff,
    outbox_dispatch,
    outbox_enqueue,
    outbox_queue_dispatch,
)
from integrations.retry import backoff_seconds, retry_after_seconds
from operations.models import ExceptionCase
from tests.integrations.endpoints import Answer, ScriptedReceiver

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


def _low(low: float, high: float) -> float:
    return low


def _high(low: float, high: float) -> float:
    return high


@pytest.fixture
def policy_in_force(settings):
    """Use each connection's policy, as production does."""
    settings.WAYBILL_OUTBOX_BACKOFF_OVERRIDE = False


def _partner(url: str = "http://127.0.0.1:9", **fields) -> Connection:
    values = {"max_attempts": 5, "outbound_auth": "none", **fields}
    return Connection.objects.create(
        code="partner", name="Partner", kind="partner", base_url=url, **values
    )


def _enqueue(key: str = "k-1") -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(
            destination_code="partner",
            type="shipment.status_changed",
            subject="SH-1",
            payload={"shipment_number": "SH-1"},
            idempotency_key=key,
        )


def _dispatch_at(message: OutboxMessage, moment: dt.datetime) -> OutboxMessage:
    """Dispatch with the hub's clock fixed at ``moment``."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=moment)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        outbox_dispatch(message_id=message.pk)
    message.refresh_from_db()
    return message


def _answering(*answers: Answer):
    return ScriptedReceiver(*answers).start()


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 5.0, 10.0), (2, 10.0, 20.0), (4, 40.0, 80.0), (5, 45.0, 90.0)],
)
def test_backoff_follows_the_connections_base_and_cap(
    policy_in_force, attempt, low, high
):
    connection = _partner(retry_base_seconds=10, retry_max_seconds=90)

    shortest = outbox_backoff(attempt=attempt, connection=connection, uniform=_low)
    longest = outbox_backoff(attempt=attempt, connection=connection, uniform=_high)

    assert (shortest.total_seconds(), longest.total_seconds()) == (low, high)


def test_backoff_keeps_its_jitter_between_half_and_the_ceiling():
    waits = {
        backoff_seconds(attempt=3, base_seconds=10, max_seconds=600) for _ in range(200)
    }

    assert min(waits) >= 20.0
    assert max(waits) <= 40.0
    assert len(waits) > 100


def test_environment_override_replaces_every_connection_policy(settings):
    settings.WAYBILL_OUTBOX_BACKOFF_OVERRIDE = True
    settings.WAYBILL_OUTBOX_BACKOFF_BASE = 0.5
    settings.WAYBILL_OUTBOX_BACKOFF_CAP = 2.0
    connection = _partner(retry_base_seconds=30, retry_max_seconds=3600)

    wait = outbox_backoff(attempt=9, connection=connection, uniform=_high)

    assert wait == dt.timedelta(seconds=2)


def test_a_failed_claim_schedules_the_next_attempt_by_the_connection_policy(
    policy_in_force,
):
    receiver = _answering(Answer(503))
    try:
        _partner(receiver.url, retry_base_seconds=40, retry_max_seconds=600)
        message = _dispatch_at(_enqueue(), NOW)
    finally:
        receiver.stop()

    wait = (message.next_attempt_at - NOW).total_seconds()
    assert (message.state, message.response_status) == ("pending", 503)
    assert 20.0 <= wait <= 40.0


def test_301_counts_as_a_failure_and_is_not_followed(policy_in_force):
    target = _answering()
    receiver = _answering(
        Answer(301, {"Location": target.url + "/moved?token=abc"}),
    )
    try:
        _partner(receiver.url)
        message = _dispatch_at(_enqueue(), NOW)
    finally:
        receiver.stop()
        target.stop()

    host_port = target.url.removeprefix("http://")
    assert target.seen == []
    assert (message.state, message.response_status) == ("pending", 301)
    assert message.last_error == f"HTTP 301: redirect to {host_port}/moved not followed"
    assert message.next_attempt_at > NOW


def test_410_pauses_sending_only_and_opens_one_endpoint_gone_case(
    policy_in_force,
):
    receiver = _answering(Answer(410), Answer(410))
    try:
        partner = _partner(receiver.url)
        first = _dispatch_at(_enqueue("k-1"), NOW)
        second = _dispatch_at(_enqueue("k-2"), NOW)
    finally:
        receiver.stop()

    partner.refresh_from_db()
    cases = ExceptionCase.objects.values_list("kind", "dedupe_key", "state")
    assert (partner.enabled, partner.sending_enabled) == (True, False)
    assert (first.state, first.response_status) == ("dead", 410)
    # The paused destination is not asked again; the next message waits
    # without using an attempt.
    assert len(receiver.seen) == 1
    assert (second.state, second.attempts, second.last_error) == ("pending", 0, "")
    assert list(cases) == [("endpoint_gone", "endpoint_gone:partner", "open")]


def test_429_retry_after_seconds_sets_the_earliest_next_attempt(policy_in_force):
    receiver = _answering(Answer(429, {"Retry-After": "120"}))
    try:
        _partner(receiver.url, retry_base_seconds=2, retry_max_seconds=3600)
        message = _dispatch_at(_enqueue(), NOW)
    finally:
        receiver.stop()

    assert (message.state, message.response_status) == ("pending", 429)
    assert message.next_attempt_at == NOW + dt.timedelta(seconds=120)


def test_429_retry_after_http_date_sets_the_earliest_next_attempt(policy_in_force):
    receiver = _answering(Answer(429, {"Retry-After": "Wed, 04 Mar 2026 12:05:00 GMT"}))
    try:
        _partner(receiver.url, retry_base_seconds=2, retry_max_seconds=3600)
        message = _dispatch_at(_enqueue(), NOW)
    finally:
        receiver.stop()

    assert message.next_attempt_at == NOW + dt.timedelta(minutes=5)


def test_429_retry_after_shorter_than_the_backoff_keeps_the_backoff(
    policy_in_force,
):
    receiver = _answering(Answer(429, {"Retry-After": "1"}))
    try:
        _partner(receiver.url, retry_base_seconds=600, retry_max_seconds=3600)
        message = _dispatch_at(_enqueue(), NOW)
    finally:
        receiver.stop()

    wait = (message.next_attempt_at - NOW).total_seconds()
    assert 300.0 <= wait <= 600.0


def test_429_retry_after_is_capped_by_the_longest_wait(policy_in_force):
    receiver = _answering(Answer(429, {"Retry-After": "99999999"}))
    try:
        _partner(receiver.url, retry_base_seconds=2, retry_max_seconds=900)
        message = _dispatch_at(_enqueue(), NOW)
    finally:
        receiver.stop()

    assert message.next_attempt_at == NOW + dt.timedelta(seconds=900)


def test_5xx_uses_the_normal_backoff_until_the_last_attempt_then_dead(
    policy_in_force,
):
    receiver = _answering(Answer(500), Answer(502), Answer(504))
    try:
        _partner(receiver.url, max_attempts=3, retry_base_seconds=10)
        message = _enqueue()
        waits = []
        moment = NOW
        for _ in range(3):
            message = _dispatch_at(message, moment)
            waits.append((message.next_attempt_at - moment).total_seconds())
            moment = message.next_attempt_at
    finally:
        receiver.stop()

    assert (message.state, message.attempts) == ("dead", 3)
    assert [e["error"] for e in message.errors] == [
        "HTTP 500: ",
        "HTTP 502: ",
        "HTTP 504: ",
    ]
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20 and 20 <= waits[2] <= 40


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 04 Mar 2026 12:02:00 GMT", 120.0),
        ("Wed, 04 Mar 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    assert retry_after_seconds(header, now=NOW) == seconds


def test_dispatch_is_queued_on_the_connections_own_queue():
    _partner(queue="outbox.slow-partners")
    message = OutboxMessage.objects.create(
        destination=Connection.objects.get(code="partner"),
        type="t",
        subject="S",
        payload={},
        idempotency_key="k",
        next_attempt_at=timezone.now(),
    )

    with mock.patch("integrations.outbox.current_app.send_task") as send_task:
        outbox_queue_dispatch(message=message)

    assert send_task.call_args.kwargs["queue"] == "outbox.slow-partners"


def test_dispatch_without_a_queue_override_uses_outbox_and_the_code():
    _partner()
    message = OutboxMessage.objects.create(
        destination=Connection.objects.get(code="partner"),
        type="t",
        subject="S",
        payload={},
        idempotency_key="k",
        next_attempt_at=timezone.now(),
    )

    with mock.patch("integrations.outbox.current_app.send_task") as send_task:
        outbox_queue_dispatch(message=message)

    assert send_task.call_args.kwargs["queue"] == "outbox.partner"
