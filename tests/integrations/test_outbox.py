"""The outbox: signed delivery, retries with backoff, dead letters, replay."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.utils import timezone

from integrations import signing
from integrations.models import Connection, OutboxMessage
from integrations.outbox import (
    outbox_backoff,
    outbox_claim_due,
    outbox_dispatch,
    outbox_enqueue,
    outbox_message_replay,
)
from operations.models import ExceptionCase
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def partner(db, receiver) -> Connection:
    return Connection.objects.create(
        code="partner",
        name="Partner",
        kind="partner",
        base_url=receiver.url,
        outbound_secret="partner-secret",
        max_attempts=3,
    )


def enqueue(payload=None) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(
            destination_code="partner",
            type="shipment.status_changed",
            subject="SH-1",
            payload=payload or {"shipment_number": "SH-1", "name": "Müller & Söhne"},
            idempotency_key="status:SH-1:delivered",
            correlation_id="SO-1",
        )


def make_due(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def test_delivery_is_signed_over_the_exact_bytes_sent(partner, receiver):
    message = enqueue()

    outbox_dispatch(message_id=message.pk)

    request = receiver.requests[0]
    message.refresh_from_db()
    assert message.state == "delivered"
    assert request.path == "/events"
    assert request.headers["Idempotency-Key"] == "status:SH-1:delivered"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.body)["data"]["name"] == "Müller & Söhne"
    signing.verify(
        ["partner-secret"],
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.headers["webhook-signature"],
        request.body,
    )


def test_failed_attempt_is_retried_later_and_delivered_on_the_next(partner, receiver):
    receiver.fail_statuses = [503]
    message = enqueue()

    outbox_dispatch(message_id=message.pk)
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (
        "pending",
        1,
        "HTTP 503: ",
    )
    assert message.next_attempt_at > timezone.now()
    assert outbox_dispatch(message_id=message.pk) is None  # not due yet

    make_due(message)
    outbox_dispatch(message_id=message.pk)

    message.refresh_from_db()
    keys = {r.headers["Idempotency-Key"] for r in receiver.requests}
    assert (message.state, message.attempts) == ("delivered", 2)
    assert keys == {"status:SH-1:delivered"}


def test_message_is_dead_after_the_last_attempt_with_every_error_and_a_case(
    partner, receiver
):
    receiver.fail_statuses = [500, 502, 503]
    message = enqueue()

    for _ in range(3):
        make_due(message)
        outbox_dispatch(message_id=message.pk)

    message.refresh_from_db()
    assert message.state == "dead"
    assert [e["error"] for e in message.errors] == [
        "HTTP 500: ",
        "HTTP 502: ",
        "HTTP 503: ",
    ]
    assert ExceptionCase.objects.get(outbox_message=message).kind == "dead_letter"


def test_replay_of_a_dead_message_delivers_it_once_with_the_same_key(partner, receiver):
    receiver.fail_statuses = [500, 500, 500]
    message = enqueue()
    for _ in range(3):
        make_due(message)
        outbox_dispatch(message_id=message.pk)

    assert outbox_message_replay(message_ids=[message.pk]) == 1
    outbox_dispatch(message_id=message.pk)
    outbox_dispatch(message_id=message.pk)

    message.refresh_from_db()
    assert message.state == "delivered"
    assert len(receiver.requests) == 4
    assert receiver.requests[-1].headers["Idempotency-Key"] == "status:SH-1:delivered"


def test_receiver_refusal_is_dead_at_once_and_redirects_are_not_followed(
    partner, receiver
):
    receiver.fail_statuses = [301]
    first = enqueue()
    outbox_dispatch(message_id=first.pk)
    first.refresh_from_db()
    assert (first.state, first.response_status) == ("pending", 301)

    receiver.fail_statuses = [422]
    make_due(first)
    outbox_dispatch(message_id=first.pk)
    first.refresh_from_db()
    assert (first.state, first.attempts) == ("dead", 2)


def test_same_idempotency_key_is_recorded_once(partner):
    first = enqueue()
    second = enqueue({"other": "payload"})

    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1


def test_rolled_back_change_leaves_no_outbox_row(partner):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("the change failed")

    assert OutboxMessage.objects.count() == 0


def test_sweeper_queues_a_due_message_once_per_requeue_period(partner, settings):
    message = enqueue()
    assert outbox_claim_due() == []  # just queued on commit

    stale = timezone.now() - dt.timedelta(
        seconds=settings.WAYBILL_REQUEUE_AFTER_SECONDS + 1
    )
    OutboxMessage.objects.filter(pk=message.pk).update(queued_at=stale)
    assert [m.pk for m in outbox_claim_due()] == [message.pk]
    assert outbox_claim_due() == []


def test_sweeper_leaves_a_message_alone_until_its_retry_time(partner):
    message = enqueue()
    later = timezone.now() + dt.timedelta(minutes=5)
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=later, queued_at=None
    )

    assert outbox_claim_due() == []

    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert [m.pk for m in outbox_claim_due()] == [message.pk]


@pytest.mark.parametrize(
    "attempt,ceiling", [(1, 2.0), (2, 4.0), (5, 32.0), (20, 300.0)]
)
def test_backoff_grows_exponentially_with_jitter_up_to_the_cap(attempt, ceiling):
    waits = [outbox_backoff(attempt=attempt).total_seconds() for _ in range(200)]

    assert min(waits) >= ceiling / 2
    assert max(waits) <= ceiling
    assert len(set(waits)) > 100


def test_breaker_opens_after_the_threshold_and_defers_without_using_attempts(
    partner, receiver
):
    from integrations.models import CircuitBreaker

    Connection.objects.filter(pk=partner.pk).update(breaker_threshold=2, max_attempts=8)
    receiver.fail_statuses = [503, 503]
    messages = [
        outbox_enqueue(
            destination_code="partner",
            type="t",
            subject=f"S{n}",
            payload={},
            idempotency_key=f"k{n}",
        )
        for n in range(3)
    ]

    for message in messages:
        outbox_dispatch(message_id=message.pk)

    breaker = CircuitBreaker.objects.get(connection=partner)
    third = OutboxMessage.objects.get(pk=messages[2].pk)
    assert (breaker.state, breaker.failures) == ("open", 2)
    assert len(receiver.requests) == 2
    assert third.attempts == 0
    assert third.next_attempt_at == breaker.open_until


def test_other_destinations_keep_sending_while_one_breaker_is_open(partner, receiver):
    from integrations.models import CircuitBreaker

    Connection.objects.create(
        code="other", name="Other", kind="partner", base_url=receiver.url
    )
    CircuitBreaker.objects.create(
        connection=partner,
        state="open",
        failures=5,
        open_until=timezone.now() + dt.timedelta(minutes=1),
    )
    blocked = enqueue()
    free = outbox_enqueue(
        destination_code="other",
        type="t",
        subject="S",
        payload={},
        idempotency_key="free",
    )

    outbox_dispatch(message_id=blocked.pk)
    outbox_dispatch(message_id=free.pk)

    assert OutboxMessage.objects.get(pk=blocked.pk).state == "pending"
    assert OutboxMessage.objects.get(pk=free.pk).state == "delivered"
    assert len(receiver.requests) == 1


def test_half_open_breaker_closes_on_a_successful_trial(partner, receiver):
    from integrations.models import CircuitBreaker

    CircuitBreaker.objects.create(
        connection=partner,
        state="open",
        failures=5,
        open_until=timezone.now() - dt.timedelta(seconds=1),
    )
    message = enqueue()

    outbox_dispatch(message_id=message.pk)

    breaker = CircuitBreaker.objects.get(connection=partner)
    assert OutboxMessage.objects.get(pk=message.pk).state == "delivered"
    assert (breaker.state, breaker.failures, breaker.open_until) == ("closed", 0, None)


def test_failed_trial_opens_the_breaker_again(partner, receiver):
    from integrations.models import CircuitBreaker

    receiver.fail_statuses = [502]
    CircuitBreaker.objects.create(
        connection=partner,
        state="open",
        failures=5,
        open_until=timezone.now() - dt.timedelta(seconds=1),
    )
    message = enqueue()

    outbox_dispatch(message_id=message.pk)

    breaker = CircuitBreaker.objects.get(connection=partner)
    assert breaker.state == "open"
    assert breaker.open_until > timezone.now()


def test_a_setting_requests_refuses_is_a_recorded_failed_attempt(partner, receiver):
    Connection.objects.filter(pk=partner.pk).update(timeout_seconds=0)
    message = enqueue()

    outbox_dispatch(message_id=message.pk)

    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("ValueError: ")
    assert receiver.requests == []
