"""Inbound messages: accept once, process into canonical events, replay.

Accepting stores the raw bytes and answers only after the commit; processing
runs in a worker, parses the message with its connection's connector, and
applies each event in a transaction of its own. What cannot be applied is
kept with a readable reason (``needs_attention``); what failed for a
technical reason is retried (``failed``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import traceback

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import F, Q
from django.utils import timezone

from integrations.connectors.x12 import acks as x12_acks
from integrations.errors import EventRejected
from integrations.events import BatchOutcome, Event, ParseResult, Problem
from integrations.handlers import BATCH_HANDLERS, HANDLERS
from integrations.mappings import (
    CodeLookup,
    blocked_by_first_key,
    code_lookup_for_message,
)
from integrations.models import CanonicalEvent, Connection, InboundMessage
from integrations.validation import (
    connection_may_send,
    event_data_validate,
    event_sender_validate,
)
from operations.services import case_open, case_resolve, case_resolve_many

logger = logging.getLogger(__name__)

PROCESS_TASK = "integrations.tasks.inbound_process_task"
PROCESS_MANY_TASK = "integrations.tasks.inbound_process_many_task"
INBOUND_QUEUE = "inbound"
MAX_PROCESS_ATTEMPTS = 8

# A problem's code decides the kind of case customer service sees.
_CASE_KIND = {
    "unmapped_code": "unmapped_code",
    "unknown_reference": "unknown_reference",
}


def inbound_message_accept(
    *,
    connection: Connection,
    message_id: str,
    body: bytes,
    content_type: str,
    filename: str = "",
) -> tuple[InboundMessage, bool]:
    """Store a raw message once; return it and whether it is new.

    A repeat (same connection and message id, or the same body) returns the
    first message and queues nothing. Processing is queued on commit, so a
    worker never looks for a row that is not there yet.
    """
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            _lock_bodies(connection=connection, digests=[digest])
            first = _first_copy(
                connection=connection, message_id=message_id, digest=digest
            )
            if first is not None:
                return first, False
            message = InboundMessage.objects.create(
                connection=connection,
                message_id=message_id,
                body=body,
                sha256=digest,
                content_type=content_type,
                filename=filename,
                queued_at=timezone.now(),
            )
            transaction.on_commit(
                lambda: inbound_queue_processing(message_id=message.pk)
            )
    except IntegrityError:
        # A concurrent delivery of the same message won the insert.
        return InboundMessage.objects.get(
            connection=connection, message_id=message_id
        ), False
    logger.info(
        "inbound message accepted",
        extra={"connection": connection.code, "message_id": message.pk},
    )
    return message, True


def inbound_batch_accept(
    *, connection: Connection, items: list[tuple[str, bytes]]
) -> list[dict]:
    """Store each (message id, body) of a batch once; return a result per item.

    One set-based insert stores the whole batch. An item already stored, or
    repeated within the batch (same id or same body), is reported as a
    duplicate with the first copy's id, exactly as a single repeat would be.
    """
    now = timezone.now()
    rows = [
        InboundMessage(
            connection=connection,
            message_id=message_id,
            body=body,
            sha256=hashlib.sha256(body).hexdigest(),
            content_type="application/json",
            queued_at=now,
        )
        for message_id, body in items
    ]
    with transaction.atomic():
        _lock_bodies(connection=connection, digests=[row.sha256 for row in rows])
        first_copy = _existing_copies(connection=connection, rows=rows)
        fresh = _first_of_each(rows, known=first_copy)
        InboundMessage.objects.bulk_create(fresh, ignore_conflicts=True)
        stored = dict(
            InboundMessage.objects.filter(
                connection=connection, message_id__in=[row.message_id for row in fresh]
            ).values_list("message_id", "pk")
        )
        new_ids = [stored[row.message_id] for row in fresh]
        transaction.on_commit(lambda: _queue_all(new_ids))

    for row in fresh:
        first_copy.setdefault(row.message_id, stored[row.message_id])
        first_copy.setdefault(row.sha256, stored[row.message_id])
    accepted = {id(row) for row in fresh}
    return [
        {
            "index": index,
            "id": row.message_id,
            "status": "accepted" if id(row) in accepted else "duplicate",
            "message_id": first_copy.get(row.message_id) or first_copy[row.sha256],
        }
        for index, row in enumerate(rows)
    ]


def _lock_bodies(*, connection: Connection, digests: list[str]) -> None:
    """Serialise accepting the same body on one connection until commit.

    The same-body check is a lookup before an insert that no database
    constraint backs, so two concurrent copies with different message ids
    would both find nothing and both insert. A transaction-scoped advisory
    lock per (connection, body hash) makes the second wait for the first to
    commit, after which its lookup sees the first copy. Locks are taken in
    the order of their lock keys, so two batches that share bodies never
    wait on each other crosswise. SQLite serialises all writers anyway.
    """
    _advisory_locks({f"waybill:inbound:{connection.pk}:{digest}" for digest in digests})


def _advisory_locks(keys: set[str]) -> None:
    """Take transaction-scoped advisory locks on text keys, in lock-key order.

    One statement for any number of keys; the fixed order keeps two
    transactions that share keys from waiting on each other crosswise.
    SQLite serialises all writers anyway.
    """
    if db_connection.vendor != "postgresql" or not keys:
        return
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(lock_key) FROM ("
            " SELECT DISTINCT hashtextextended(key, 0) AS lock_key"
            " FROM unnest(%s::text[]) AS key ORDER BY lock_key"
            ") AS ordered",
            [sorted(keys)],
        )


def _existing_copies(
    *, connection: Connection, rows: list[InboundMessage]
) -> dict[str, int]:
    """Map message ids and body hashes already stored to the first message's pk."""
    found = InboundMessage.objects.filter(connection=connection).filter(
        Q(message_id__in=[row.message_id for row in rows])
        | Q(sha256__in=[row.sha256 for row in rows])
    )
    copies: dict[str, int] = {}
    for pk, message_id, digest in found.order_by("pk").values_list(
        "pk", "message_id", "sha256"
    ):
        copies.setdefault(message_id, pk)
        copies.setdefault(digest, pk)
    return copies


def _first_of_each(rows: list[InboundMessage], *, known: dict[str, int]) -> list:
    """Keep the rows whose id and body are new, the first of each within the batch."""
    seen = set(known)
    fresh = []
    for row in rows:
        if row.message_id in seen or row.sha256 in seen:
            continue
        seen.update((row.message_id, row.sha256))
        fresh.append(row)
    return fresh


def _queue_all(message_ids: list[int]) -> None:
    inbound_queue_processing_many(message_ids=message_ids)


def inbound_backlog_full() -> bool:
    """Return whether more messages wait for processing than the configured bound.

    Reads at most one row past the bound, so the check stays cheap however
    large the backlog grows.
    """
    limit = settings.WAYBILL_INBOUND_BACKLOG_LIMIT
    waiting = InboundMessage.objects.filter(state=InboundMessage.State.RECEIVED)
    return waiting.order_by()[limit : limit + 1].exists()


def _first_copy(
    *, connection: Connection, message_id: str, digest: str
) -> InboundMessage | None:
    return (
        InboundMessage.objects.filter(connection=connection)
        .filter(Q(message_id=message_id) | Q(sha256=digest))
        .order_by("pk")
        .first()
    )


def inbound_queue_processing(*, message_id: int) -> None:
    """Wake a worker for one message; the sweeper covers a broker failure."""
    try:
        current_app.send_task(PROCESS_TASK, args=[message_id], queue=INBOUND_QUEUE)
    except Exception:  # noqa: BLE001 - the row stays received; the sweeper retries
        logger.warning(
            "inbound processing not queued; sweeper will retry",
            extra={"message_id": message_id},
            exc_info=True,
        )


def inbound_queue_processing_many(*, message_ids: list[int]) -> None:
    """Wake workers for many messages, ``WAYBILL_INBOUND_BATCH_SIZE`` per task."""
    size = settings.WAYBILL_INBOUND_BATCH_SIZE
    for first in range(0, len(message_ids), size):
        chunk = message_ids[first : first + size]
        try:
            current_app.send_task(PROCESS_MANY_TASK, args=[chunk], queue=INBOUND_QUEUE)
        except Exception:  # noqa: BLE001 - the rows stay received; the sweeper retries
            logger.warning(
                "inbound processing not queued; sweeper will retry",
                extra={"messages": len(chunk)},
                exc_info=True,
            )


def inbound_message_process(*, message_id: int) -> InboundMessage | None:
    """Parse a message, apply its events, and record the outcome.

    Safe to run twice for the same message: every event is stored once by
    source and id, and an applied event is never applied again.
    """
    message = (
        InboundMessage.objects.select_related("connection")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.state == InboundMessage.State.PROCESSED:
        return message
    message.attempts += 1
    # Holding the lease stops the sweeper from queueing a copy while this
    # worker is busy with the message.
    message.queued_at = timezone.now()
    message.save(update_fields=["attempts", "queued_at"])
    _process_leased(message)
    return message


def _process_leased(message: InboundMessage) -> None:
    """Parse and apply one message this worker holds; record the outcome."""
    context = {"connection": message.connection.code, "message_id": message.pk}
    try:
        problems = _parse_and_apply(message)
    except Exception as exc:  # noqa: BLE001 - worker's outer guard: record and retry
        _record_failure(message, exc=exc)
        logger.exception("inbound message failed", extra=context)
        return
    _record_outcome(message, problems=problems)


def inbound_messages_process(*, message_ids: list[int]) -> None:
    """Process many messages in arrival order, applying runs of them together.

    Consecutive messages that each carry one event of a type with a batch
    handler (``BATCH_HANDLERS``: ERP order releases) form a run applied in
    one transaction with a statement per table; everything else, and every
    event a batch handler leaves, goes through ``inbound_message_process``'s
    one-by-one path in its turn. The outcome per message is the one that
    path would record; only the number of statements differs.
    """
    messages = _lease_many(message_ids)
    lookup = code_lookup_for_message()
    run: list[tuple[InboundMessage, Event]] = []
    for message in messages:
        event = _batchable_event(message, lookup=lookup)
        if event is not None and (not run or run[0][1].type == event.type):
            run.append((message, event))
            continue
        _apply_run(run)
        run = []
        if event is not None:
            run.append((message, event))
        else:
            _process_leased(message)
    _apply_run(run)


def _lease_many(message_ids: list[int]) -> list[InboundMessage]:
    """Take the unprocessed ones of these messages, in arrival order."""
    now = timezone.now()
    messages = list(
        InboundMessage.objects.select_related("connection")
        .filter(pk__in=message_ids)
        .exclude(state=InboundMessage.State.PROCESSED)
        .order_by("pk")
    )
    InboundMessage.objects.filter(pk__in=[message.pk for message in messages]).update(
        attempts=F("attempts") + 1, queued_at=now
    )
    for message in messages:
        message.attempts += 1
        message.queued_at = now
    return messages


def _batchable_event(message: InboundMessage, *, lookup: CodeLookup) -> Event | None:
    """Return the one event of a message a batch handler may take, else None."""
    connection = message.connection
    if (
        connection.protocol != Connection.Protocol.HTTP_JSON
        or connection.kind == Connection.Kind.CARRIER
    ):
        return None
    from integrations.connectors.hub.mapping import parse_webhook

    try:
        parsed = parse_webhook(
            bytes(message.body), connection_code=connection.code, lookup=lookup
        )
    except _BAD_DATA:
        return None
    if parsed.problems or len(parsed.events) != 1:
        return None
    event = parsed.events[0]
    if event.type not in BATCH_HANDLERS or not connection_may_send(
        connection=connection, event_type=event.type
    ):
        return None
    return event


def _apply_run(run: list[tuple[InboundMessage, Event]]) -> None:
    """Apply a run set-based; what the handler leaves goes one by one, in turn."""
    while run:
        try:
            consumed, applied = _apply_run_together(run)
        except Exception:  # noqa: BLE001 - the one-by-one path records each outcome
            logger.exception(
                "set-based application failed; applying one by one",
                extra={"messages": len(run)},
            )
            for message, _event in run:
                _process_leased(message)
            return
        for message, _event in run[:consumed]:
            if message.pk not in applied:
                _process_leased(message)
        if consumed == len(run):
            return
        _process_leased(run[consumed][0])
        run = run[consumed + 1 :]


def _apply_run_together(run: list[tuple[InboundMessage, Event]]) -> tuple[int, set]:
    """Apply what a batch handler takes of a run in one transaction.

    Returns how many messages from the start were dealt with (the rest wait
    behind one that must go one by one: an event stored before, or a second
    copy of one in the run) and the ids of the messages it applied; the
    others among the dealt-with failed a check and go one by one for their
    reason.
    """
    handler = BATCH_HANDLERS[run[0][1].type]
    with transaction.atomic():
        _lock_aggregates_many([event for _message, event in run])
        keys = [(event.source, event.id) for _message, event in run]
        stored = set(
            CanonicalEvent.objects.filter(
                event_id__in=[event_id for _source, event_id in keys]
            ).values_list("source", "event_id")
        )
        candidates: list[int] = []
        consumed = len(run)
        for position, (message, event) in enumerate(run):
            if keys[position] in stored:
                consumed = position
                break
            stored.add(keys[position])
            try:
                event_data_validate(type=event.type, data=event.data)
                event_sender_validate(
                    connection=message.connection, type=event.type, data=event.data
                )
            except (EventRejected, *_BAD_DATA):
                continue
            candidates.append(position)
        outcomes = handler(payloads=[run[position][1].data for position in candidates])
        applied = []
        for position, outcome in zip(candidates, outcomes, strict=True):
            if outcome == BatchOutcome.CUT:
                consumed = position
                break
            if outcome == BatchOutcome.APPLIED:
                applied.append(run[position])
        CanonicalEvent.objects.bulk_create(
            CanonicalEvent(
                source=event.source,
                event_id=event.id,
                state=CanonicalEvent.State.APPLIED,
                **_event_fields(event, message),
            )
            for message, event in applied
        )
        _record_processed_many(applied)
    return consumed, {message.pk for message, _event in applied}


def _lock_aggregates_many(events: list[Event]) -> None:
    """Take ``_lock_aggregates``'s locks for many events in one statement."""
    _advisory_locks(
        {
            f"waybill:{key}"
            for event in events
            for key in (event.subject, event.correlationid)
            if key
        }
    )


def _set_correlation_ids(messages: list[InboundMessage]) -> None:
    """Store each message's correlation id: one statement on PostgreSQL."""
    if db_connection.vendor != "postgresql":
        for message in messages:
            message.save(update_fields=["correlation_id"])
        return
    with db_connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_inboundmessage AS message"
            " SET correlation_id = given.correlation_id"
            " FROM unnest(%s::bigint[], %s::text[]) AS given(id, correlation_id)"
            " WHERE message.id = given.id",
            [
                [message.pk for message in messages],
                [message.correlation_id for message in messages],
            ],
        )


def _record_processed_many(applied: list[tuple[InboundMessage, Event]]) -> None:
    """Record messages whose every event applied, as ``_record_outcome`` would."""
    if not applied:
        return
    now = timezone.now()
    messages = []
    for message, event in applied:
        message.state = InboundMessage.State.PROCESSED
        message.error = ""
        message.blocked_by = ""
        message.processed_at = now
        message.next_attempt_at = None
        if not message.correlation_id:
            message.correlation_id = event.correlationid[:60]
        messages.append(message)
    InboundMessage.objects.filter(pk__in=[message.pk for message in messages]).update(
        state=InboundMessage.State.PROCESSED,
        error="",
        blocked_by="",
        processed_at=now,
        next_attempt_at=None,
    )
    _set_correlation_ids(messages)
    case_resolve_many(dedupe_keys=[f"inbound:{message.pk}" for message in messages])
    logger.info("%s inbound messages processed together", len(messages))


def _parse_and_apply(message: InboundMessage) -> list[Problem]:
    lookup = code_lookup_for_message()
    try:
        parsed = inbound_parse(message=message, lookup=lookup)
    except _BAD_DATA as exc:
        # A connector that lets a value of the wrong type, size or range
        # escape (a date that overflows in UTC, nesting too deep to follow)
        # was given bad data; a retry would fail the same way, so the
        # message waits for a person with the reason.
        reason = f"the message cannot be read ({type(exc).__name__}: {exc})"
        parsed = ParseResult(problems=[Problem("invalid_message", reason[:1000])])
    if not parsed.events and not parsed.problems:
        # An empty batch is a sender's mistake, never a silent success.
        parsed.problems.append(
            Problem("invalid_message", "the message holds no events")
        )
    x12_acks.acknowledge_inbound(message=message, parsed=parsed)
    problems = lookup.with_keys(parsed.problems)
    for event in parsed.events:
        problem = event_apply(event=event, message=message)
        if problem is not None:
            problems.append(problem)
    if parsed.events and not message.correlation_id:
        message.correlation_id = parsed.events[0].correlationid[:60]
    return problems


def inbound_parse(*, message: InboundMessage, lookup: CodeLookup) -> ParseResult:
    """Turn a stored message into canonical events with its connection's connector."""
    connection = message.connection
    body = bytes(message.body)
    if connection.protocol == Connection.Protocol.X12_FILE:
        from integrations.connectors.x12.mapping import parse_x12_file

        return parse_x12_file(body, source=connection.code, lookup=lookup)
    if connection.protocol == Connection.Protocol.EDIFACT:
        from integrations.connectors.edifact.mapping import parse_edifact_file

        return parse_edifact_file(
            body, source=connection.code, lookup=lookup, carrier_scac=connection.scac
        )
    if connection.kind == Connection.Kind.CARRIER:
        from integrations.connectors.carrier.mapping import parse_carrier_webhook

        return parse_carrier_webhook(
            body, source=connection.code, carrier_scac=connection.scac, lookup=lookup
        )
    from integrations.connectors.hub.mapping import parse_webhook

    return parse_webhook(body, connection_code=connection.code, lookup=lookup)


def event_apply(*, event: Event, message: InboundMessage | None) -> Problem | None:
    """Store an event once and apply it in one transaction; return a problem or None.

    An event already applied is skipped. An event its handler rejects is
    kept in ``needs_attention`` with the reason, so a replay can apply it.
    """
    connection = message.connection if message is not None else None
    if connection is not None and not connection_may_send(
        connection=connection, event_type=event.type
    ):
        return Problem(
            "invalid_message",
            f"{connection.code} ({connection.kind}) may not send {event.type}",
        )
    handler = HANDLERS.get(event.type)
    if handler is None:
        return Problem(
            "unsupported_document", f"no handler for event type {event.type}"
        )
    try:
        with transaction.atomic():
            _lock_aggregates(event)
            stored = _store_for_apply(event=event, message=message)
            if stored is None:
                return None
            event_data_validate(type=stored.type, data=stored.data)
            if connection is not None:
                event_sender_validate(
                    connection=connection, type=stored.type, data=stored.data
                )
            handler(stored)
            stored.state = CanonicalEvent.State.APPLIED
            stored.error = ""
            stored.save(update_fields=["state", "error"])
    except EventRejected as exc:
        reason = f"{event.type} {event.subject}: {exc.reason}"
        _record_rejection(event=event, message=message, reason=reason)
        return Problem(exc.code, reason)
    except _BAD_DATA as exc:
        # A value of the wrong type, size or range that the connector let
        # through: retrying cannot help, so it waits for a person, readable.
        reason = (
            f"{event.type} {event.subject}: invalid data ({type(exc).__name__}: {exc})"
        )
        _record_rejection(event=event, message=message, reason=reason[:1000])
        return Problem("invalid_value", reason[:1000])
    logger.debug(
        "event applied",
        extra={"event_type": event.type, "correlation_id": event.correlationid},
    )
    return None


def _lock_aggregates(event: Event) -> None:
    """Serialise every event of one order or shipment across workers.

    A transaction-scoped PostgreSQL advisory lock per business key (the
    subject and the order it belongs to) covers what a row lock cannot: the
    first event of an order or shipment, before its row exists.
    """
    _lock_aggregates_many([event])


# Errors that mean "this payload is wrong", as opposed to an outage: a missing
# key, a bad number or date, or a value the database constraints refuse.
_BAD_DATA = (
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    ArithmeticError,
    RecursionError,
    ValidationError,
    IntegrityError,
    DataError,
)


def _event_fields(event: Event, message: InboundMessage | None) -> dict:
    return {
        "type": event.type,
        "subject": event.subject[:100],
        "time": event.time,
        "data": event.data,
        "correlation_id": event.correlationid[:60],
        "inbound_message": message,
    }


def _store_for_apply(
    *, event: Event, message: InboundMessage | None
) -> CanonicalEvent | None:
    """Return the event row to apply, locked, or None when it is already applied."""
    stored, created = CanonicalEvent.objects.select_for_update().get_or_create(
        source=event.source, event_id=event.id, defaults=_event_fields(event, message)
    )
    if created:
        return stored
    if stored.state == CanonicalEvent.State.APPLIED:
        return None
    # A replay after a fix: take the freshly parsed payload, which may now
    # carry mapped codes that were missing the first time.
    for name, value in _event_fields(event, message).items():
        setattr(stored, name, value)
    stored.save()
    return stored


def _record_rejection(
    *, event: Event, message: InboundMessage | None, reason: str
) -> None:
    fields = {
        **_event_fields(event, message),
        "state": "needs_attention",
        "error": reason,
    }
    with transaction.atomic():
        CanonicalEvent.objects.update_or_create(
            source=event.source, event_id=event.id, defaults=fields
        )


def _record_outcome(message: InboundMessage, *, problems: list[Problem]) -> None:
    message.processed_at = timezone.now()
    message.next_attempt_at = None
    context = {"connection": message.connection.code, "message_id": message.pk}
    message.blocked_by = blocked_by_first_key(problems)
    if problems:
        message.state = InboundMessage.State.NEEDS_ATTENTION
        message.error = "\n".join(problem.reason for problem in problems)
        case_open(
            kind=_CASE_KIND.get(problems[0].code, "invalid_message"),
            dedupe_key=f"inbound:{message.pk}",
            title=f"{message.connection.code} message {message.message_id}: "
            f"{problems[0].reason}",
            detail=message.error,
            reason_code=problems[0].code,
            inbound_message=message,
        )
        logger.error(
            "inbound message needs attention: %s", message.error, extra=context
        )
    else:
        message.state = InboundMessage.State.PROCESSED
        message.error = ""
        case_resolve(dedupe_key=f"inbound:{message.pk}")
        logger.info("inbound message processed", extra=context)
    message.save(
        update_fields=[
            "state",
            "error",
            "processed_at",
            "next_attempt_at",
            "correlation_id",
            "blocked_by",
        ]
    )


def _record_failure(message: InboundMessage, *, exc: Exception) -> None:
    """Keep a technically failed message for retry, with its error."""
    message.state = InboundMessage.State.FAILED
    message.error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
    delay = min(300, 2 ** min(message.attempts, 8))
    if message.attempts >= MAX_PROCESS_ATTEMPTS:
        message.next_attempt_at = None
        case_open(
            kind="invalid_message",
            dedupe_key=f"inbound:{message.pk}",
            title=f"{message.connection.code} message {message.message_id} fails",
            detail=message.error,
            inbound_message=message,
        )
    else:
        message.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
    message.queued_at = None
    message.save(update_fields=["state", "error", "next_attempt_at", "queued_at"])


def inbound_message_replay(*, message_ids: list[int]) -> int:
    """Process messages again (after a mapping or master-data fix); return how many."""
    with transaction.atomic():
        updated = (
            InboundMessage.objects.filter(pk__in=message_ids)
            .exclude(state=InboundMessage.State.PROCESSED)
            .update(
                state=InboundMessage.State.RECEIVED,
                attempts=0,
                next_attempt_at=None,
                queued_at=timezone.now(),
            )
        )
        ids = list(
            InboundMessage.objects.filter(
                pk__in=message_ids, state=InboundMessage.State.RECEIVED
            ).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: inbound_queue_processing_many(message_ids=ids))
    return updated


def inbound_stale_count(*, older_than: float) -> int:
    """Return how many received messages were queued longer ago than that."""
    before = timezone.now() - dt.timedelta(seconds=older_than)
    return InboundMessage.objects.filter(
        state=InboundMessage.State.RECEIVED, queued_at__lt=before
    ).count()


def inbound_claim_due(
    *,
    limit: int = 5000,
    requeue_after: float | None = None,
    lost_before: dt.datetime | None = None,
) -> list[int]:
    """Mark messages a worker should (re)process as queued; return their ids.

    Due are received messages whose task seems lost (queued longer ago than
    ``requeue_after``, by default the re-queue period, or before
    ``lost_before``, when the broker started) and failed messages whose
    retry time has come.
    """
    now = timezone.now()
    if requeue_after is None:
        requeue_after = settings.WAYBILL_REQUEUE_AFTER_SECONDS
    requeue_before = now - dt.timedelta(seconds=requeue_after)
    not_queued = Q(queued_at__isnull=True) | Q(queued_at__lt=requeue_before)
    if lost_before is not None:
        # Queued before the broker's current start: its task is gone.
        not_queued |= Q(queued_at__lt=lost_before)
    due = Q(state=InboundMessage.State.RECEIVED) | Q(
        state=InboundMessage.State.FAILED, next_attempt_at__lte=now
    )
    with transaction.atomic():
        ids = list(
            InboundMessage.objects.select_for_update(skip_locked=True)
            .filter(due & not_queued)
            .order_by("received_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        InboundMessage.objects.filter(pk__in=ids).update(queued_at=now)
    return ids
