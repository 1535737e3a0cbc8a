"""The outbox: record what must be sent, then send it with retries.

A domain service calls ``outbox_enqueue`` inside the transaction that made
the change, so the message exists exactly when the change does. Dispatch is
queued on commit; if the broker is unreachable then, the beat sweeper finds
the row by ``next_attempt_at`` and queues it later. The database holds every
state and retry time; the broker only wakes workers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from integrations.breaker import breaker_admit, breaker_record
from integrations.connectors.x12 import outbound as x12_outbound
from integrations.models import CircuitBreaker, Connection, OutboxMessage
from integrations.outbound_auth import (
    OutboundAuthError,
    oauth2_forget_token,
    outbound_auth_headers,
)
from integrations.retry import (
    Uniform,
    backoff_seconds,
    retry_after_seconds,
    retry_policy,
)

logger = logging.getLogger(__name__)

DISPATCH_TASK = "integrations.tasks.outbox_dispatch_task"
DISPATCH_MANY_TASK = "integrations.tasks.outbox_dispatch_many_task"
# Most messages one sweep queues. Sent WAYBILL_OUTBOX_DISPATCH_BATCH per task,
# so after a broker loss a few thousand go again within one sweep period.
SWEEP_LIMIT = 5000

# Statuses that say "this request will never succeed as sent": retrying them
# only hides the problem, so the message goes straight to dead.
_PERMANENT_STATUSES = frozenset(range(400, 500)) - {408, 409, 425, 429}


def outbox_enqueue(
    *,
    destination_code: str,
    type: str,  # noqa: A002 - mirrors the CloudEvents attribute name
    subject: str,
    payload: dict[str, Any],
    idempotency_key: str,
    correlation_id: str = "",
) -> OutboxMessage:
    """Record a message for a destination and queue its dispatch on commit.

    Call it inside the transaction that made the change. The idempotency key
    is unique: enqueueing the same key again returns the first row and sends
    nothing new, which is what makes re-applied events safe.
    """
    destination = Connection.objects.get(code=destination_code)
    message, created = OutboxMessage.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "destination": destination,
            "type": type,
            "subject": subject,
            "payload": payload,
            "correlation_id": correlation_id,
            "next_attempt_at": timezone.now(),
            "queued_at": timezone.now(),
        },
    )
    if created:
        transaction.on_commit(lambda: outbox_queue_dispatch(message=message))
    return message


def outbox_queue_dispatch(*, message: OutboxMessage) -> None:
    """Wake a worker for one message on its destination's queue.

    A broker failure is logged, not raised: the row stays due and the
    sweeper queues it once the broker is back.
    """
    queue = message.destination.queue_name
    try:
        current_app.send_task(DISPATCH_TASK, args=[message.pk], queue=queue)
    except Exception:  # noqa: BLE001 - the sweeper covers any publish failure
        logger.warning(
            "outbox dispatch not queued; sweeper will retry",
            extra={"message_id": message.pk, "correlation_id": message.correlation_id},
            exc_info=True,
        )


def outbox_queue_dispatch_many(*, messages: list[OutboxMessage]) -> None:
    """Wake workers for many messages, a few per task on each destination's queue.

    For a set-based writer of hundreds of rows and for the sweeper: one
    publish per message would cost more than writing them. A broker failure
    is logged, not raised, as in ``outbox_queue_dispatch``.
    """
    size = settings.WAYBILL_OUTBOX_DISPATCH_BATCH
    by_queue: dict[str, list[int]] = {}
    for message in messages:
        by_queue.setdefault(message.destination.queue_name, []).append(message.pk)
    for queue, ids in by_queue.items():
        for first in range(0, len(ids), size):
            chunk = ids[first : first + size]
            try:
                current_app.send_task(DISPATCH_MANY_TASK, args=[chunk], queue=queue)
            except Exception:  # noqa: BLE001 - the sweeper covers any publish failure
                logger.warning(
                    "outbox dispatch not queued; sweeper will retry",
                    extra={"messages": len(chunk)},
                    exc_info=True,
                )


def outbox_backoff(
    *,
    attempt: int,
    connection: Connection | None = None,
    uniform: Uniform = random.uniform,
) -> dt.timedelta:
    """Return the wait before the next attempt: exponential, capped, jittered.

    The destination's retry policy applies (``integrations.retry``); without
    a connection, the settings' base and cap.
    """
    base, cap = retry_policy(connection)
    seconds = backoff_seconds(
        attempt=attempt, base_seconds=base, max_seconds=cap, uniform=uniform
    )
    return dt.timedelta(seconds=seconds)


def outbox_dispatch(*, message_id: int) -> OutboxMessage | None:
    """Send one due message once; record delivery, a retry time, or death.

    Returns the message, or ``None`` when it was not due (already delivered,
    dead, claimed by another worker, or scheduled later) or its destination's
    sending is paused.
    """
    message = _claim(message_id=message_id)
    if message is None:
        return None

    status, error = _post(message=message)
    # A refusal (4xx) says the receiver is up; only transport failures and
    # server errors count against its breaker.
    reachable = status is not None and status < 500
    breaker_record(connection=message.destination, success=reachable)

    return _record_outcome(message=message, status=status, error=error)


def _claim(*, message_id: int) -> OutboxMessage | None:
    """Take one due message for this worker and move its retry time ahead.

    The row lock (skipped if another worker holds it) plus the new
    ``next_attempt_at`` make a second task for the same row a no-op; if this
    worker dies mid-send, the row is due again after the backoff and the
    receiver deduplicates the repeat by its idempotency key.
    """
    now = timezone.now()
    with transaction.atomic():
        # of=self: the join would otherwise lock the destination's row too,
        # and skip_locked would then pass over every message of a destination
        # whose row anyone holds (another claim, a secret rotation, an admin
        # save), leaving it for the sweeper's next re-queue.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("destination")
            .filter(
                pk=message_id,
                state=OutboxMessage.State.PENDING,
                next_attempt_at__lte=now,
            )
            .first()
        )
        if message is None:
            return None
        if not message.destination.sending_enabled:
            # Held, not failed: no attempt is used and the sweeper leaves the
            # row alone until someone turns sending on again.
            message.queued_at = None
            message.save(update_fields=["queued_at"])
            return None
        retry_at = breaker_admit(connection=message.destination)
        if retry_at is not None:
            # The destination's breaker is open: wait without using an attempt.
            message.next_attempt_at = retry_at
            message.queued_at = None
            message.save(update_fields=["next_attempt_at", "queued_at"])
            return None
        message.attempts += 1
        message.next_attempt_at = now + outbox_backoff(
            attempt=message.attempts, connection=message.destination
        )
        # Once claimed, the retry time alone decides when the sweeper acts.
        message.queued_at = None
        message.save(update_fields=["attempts", "next_attempt_at", "queued_at"])
    return message


def outbox_request_body(*, message: OutboxMessage) -> bytes:
    """Return the exact bytes sent for a message (and signed)."""
    envelope = {
        "id": message.idempotency_key,
        "type": message.type,
        "subject": message.subject,
        "correlationid": message.correlation_id,
        "data": message.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def _post(*, message: OutboxMessage) -> tuple[int | None, str]:
    """POST a message to its destination; return (HTTP status, error text)."""
    destination = message.destination
    if not destination.enabled:
        return None, f"connection {destination.code} is disabled"
    if destination.protocol == Connection.Protocol.X12_FILE:
        return x12_outbound.deliver(message=message)
    body = outbox_request_body(message=message)
    try:
        response = _send(message=message, body=body)
        if response.status_code == 401 and destination.outbound_auth == _OAUTH2:
            # A token can be revoked or expire early: fetch a new one and try
            # once more; a second 401 is the receiver's answer.
            oauth2_forget_token(connection=destination)
            response = _send(message=message, body=body, fresh_token=True)
    except OutboundAuthError as exc:
        return None, str(exc)
    except (requests.RequestException, ValueError) as exc:
        # ValueError: what requests raises for settings it cannot use (a zero
        # timeout, a malformed URL); a failed attempt, never an escape that
        # leaves the row pending without a recorded error.
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    _defer_as_asked(message=message, response=response)
    return response.status_code, _failure_text(response)


_OAUTH2 = Connection.OutboundAuth.OAUTH2


def _send(
    *, message: OutboxMessage, body: bytes, fresh_token: bool = False
) -> requests.Response:
    """POST the body once with the destination's credentials.

    Redirects are never followed: a 3xx counts as a failed attempt, so a
    moved endpoint is fixed by a person rather than followed blindly.
    """
    destination = message.destination
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": message.idempotency_key,
        **outbound_auth_headers(
            connection=destination,
            message_id=message.idempotency_key,
            body=body,
            fresh=fresh_token,
        ),
    }
    return requests.post(
        destination.base_url.rstrip("/") + "/events",
        data=body,
        headers=headers,
        timeout=destination.timeout_seconds,
        allow_redirects=False,
    )


def _failure_text(response: requests.Response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        # Only the target's host and path: a query string may carry secrets.
        target = urlsplit(response.headers.get("Location", ""))
        where = f"{target.netloc}{target.path}" or "nowhere"
        return f"HTTP {status}: redirect to {where} not followed"
    return f"HTTP {status}: {response.text[:300]}"


def _defer_as_asked(*, message: OutboxMessage, response: requests.Response) -> None:
    """Honour a 429's or 503's Retry-After: no next attempt before it."""
    header = response.headers.get("Retry-After")
    if response.status_code not in (429, 503) or not header:
        return
    now = timezone.now()
    wait = retry_after_seconds(header, now=now)
    if wait is None:
        return
    # The receiver's wait is capped by the destination's longest delay, so a
    # wild value cannot park a message for months.
    _, longest = retry_policy(message.destination)
    not_before = now + dt.timedelta(seconds=min(wait, max(longest, 1.0)))
    message.next_attempt_at = max(message.next_attempt_at, not_before)


def _record_outcome(
    *, message: OutboxMessage, status: int | None, error: str
) -> OutboxMessage:
    """Store the attempt's result: delivered, pending with a retry time, or dead."""
    log_context = {
        "message_id": message.pk,
        "correlation_id": message.correlation_id,
        "connection": message.destination.code,
        "event_type": message.type,
        "attempt": message.attempts,
    }
    message.response_status = status
    if not error:
        message.state = OutboxMessage.State.DELIVERED
        message.delivered_at = timezone.now()
        message.last_error = ""
        message.save(
            update_fields=["state", "delivered_at", "last_error", "response_status"]
        )
        logger.info("outbox message delivered", extra=log_context)
        return message

    message.last_error = error
    message.errors = [
        *message.errors,
        {"at": timezone.now().isoformat(), "error": error},
    ]
    permanent = status in _PERMANENT_STATUSES
    if permanent or message.attempts >= message.destination.max_attempts:
        message.state = OutboxMessage.State.DEAD
        logger.error("outbox message dead: %s", error, extra=log_context)
    else:
        logger.warning(
            "outbox attempt failed, retry scheduled: %s", error, extra=log_context
        )
    message.save(
        update_fields=[
            "state",
            "last_error",
            "errors",
            "response_status",
            "next_attempt_at",
        ]
    )
    if status == 410:
        _endpoint_gone(message=message)
    elif message.state == OutboxMessage.State.DEAD:
        _open_dead_letter_case(message=message)
    return message


def _endpoint_gone(*, message: OutboxMessage) -> None:
    """Pause sending to a destination that answered 410 Gone; open one case.

    410 says the endpoint was removed on purpose: sending more only adds
    noise, so sending stops until someone turns it on again with a new
    address. A removed endpoint says nothing about what the system sends the
    hub, so its inbound messages are still accepted.
    """
    from operations.services import case_open

    destination = message.destination
    Connection.objects.filter(pk=destination.pk).update(sending_enabled=False)
    destination.sending_enabled = False
    logger.error(
        "outbound endpoint gone, sending paused",
        extra={"connection": destination.code, "message_id": message.pk},
    )
    case_open(
        kind="endpoint_gone",
        dedupe_key=f"endpoint_gone:{destination.code}",
        title=f"{destination.code} answered 410 Gone: sending paused",
        detail=f"{message.type} {message.subject}: {message.last_error}\n"
        f"Nothing more is sent to {destination.code}; messages from it are "
        "still accepted. Fix the base URL, turn sending on again (the "
        "connection's Sending enabled), then replay its dead messages; "
        "messages held meanwhile go out by themselves.",
        outbox_message=message,
    )


def _open_dead_letter_case(*, message: OutboxMessage) -> None:
    from operations.services import case_open

    case_open(
        kind="dead_letter",
        dedupe_key=f"dead:{message.idempotency_key}",
        title=f"{message.type} to {message.destination.code} is dead",
        detail=message.last_error,
        outbox_message=message,
    )


def outbox_stale_counts(*, older_than: float) -> dict[int, int]:
    """Return per destination id how many pending messages were queued that long ago."""
    before = timezone.now() - dt.timedelta(seconds=older_than)
    rows = (
        OutboxMessage.objects.filter(
            state=OutboxMessage.State.PENDING, queued_at__lt=before
        )
        .values_list("destination_id")
        .annotate(stale=Count("id"))
        .order_by()
    )
    return dict(rows)


def outbox_claim_due(
    *,
    limit: int = SWEEP_LIMIT,
    patient: Iterable[int] = (),
    patience: float = 10,
    lost_before: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Mark due pending messages as queued and return them, for the sweeper.

    A message queued recently (its task may still be in the broker) is left
    alone, so the sweeper never floods the queue with copies of one message.
    For the ``patient`` destinations (whose queue holds a backlog that may
    still carry their stale messages) "recently" is ``patience`` re-queue
    periods, except for messages queued before ``lost_before`` (when the
    broker started): their tasks are gone whatever the queue holds now.
    A destination whose sending is paused gets none: its messages wait.
    A destination whose breaker is not closed gets no messages while its
    open period runs and one (the trial) once it has run out; the rest wait
    for the breaker to close. Without this, every message deferred by the
    breaker would be queued again each period, and after a long outage the
    destination's queue would hold a backlog of tasks with nothing to do.
    """
    now = timezone.now()
    period = settings.WAYBILL_REQUEUE_AFTER_SECONDS
    requeue_before = now - dt.timedelta(seconds=period)
    patient_before = now - dt.timedelta(seconds=period * patience)
    patient = list(patient)
    breakers = CircuitBreaker.objects.exclude(state=CircuitBreaker.State.CLOSED)
    not_closed = dict(breakers.values_list("connection_id", "open_until"))
    not_queued = (
        Q(queued_at__isnull=True)
        | (Q(queued_at__lt=requeue_before) & ~Q(destination_id__in=patient))
        | Q(queued_at__lt=patient_before)
    )
    if lost_before is not None:
        # Queued before the broker's current start: its task is gone.
        not_queued |= Q(queued_at__lt=lost_before)
    with transaction.atomic():
        candidates = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("destination")
            .filter(
                state=OutboxMessage.State.PENDING,
                next_attempt_at__lte=now,
                destination__sending_enabled=True,
            )
            .filter(not_queued)
            .order_by("next_attempt_at", "id")
        )
        due = list(candidates.exclude(destination_id__in=not_closed)[:limit])
        for destination_id, open_until in sorted(not_closed.items()):
            if open_until is None or open_until <= now:
                due.extend(candidates.filter(destination_id=destination_id)[:1])
        OutboxMessage.objects.filter(pk__in=[m.pk for m in due]).update(queued_at=now)
    return due


def outbox_message_replay(*, message_ids: list[int]) -> int:
    """Make dead or pending messages due now with fresh attempts; return how many.

    The idempotency key is kept, so a receiver that already processed a
    message recognises the replay. Delivered and withdrawn messages are left
    alone: a withdrawn one was superseded on purpose and must never go out.
    """
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("destination")
            .filter(
                pk__in=message_ids,
                state__in=[OutboxMessage.State.DEAD, OutboxMessage.State.PENDING],
            )
            .order_by("pk")
        )
        for message in messages:
            message.state = OutboxMessage.State.PENDING
            message.attempts = 0
            message.next_attempt_at = message.queued_at = timezone.now()
            message.save(
                update_fields=["state", "attempts", "next_attempt_at", "queued_at"]
            )
            transaction.on_commit(lambda m=message: outbox_queue_dispatch(message=m))
    return len(messages)
