"""Celery entry points for the hub; each is a thin call into a service."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings

from integrations import files, outbox, services
from integrations.models import Connection, OutboxMessage
from integrations.queues import broker_queue_depth, broker_started_at

logger = logging.getLogger(__name__)

# With tasks waiting in the queue, how many re-queue periods a message may
# wait before it counts as lost.
_BACKLOG_PATIENCE = 10
# How long one task may keep sending before it hands the rest on; well below
# CELERY_TASK_SOFT_TIME_LIMIT even if the last send takes its whole timeout.
_DISPATCH_BUDGET_SECONDS = 30


@shared_task(name="integrations.tasks.inbound_process_task")
def inbound_process_task(message_id: int) -> None:
    """Parse and apply one inbound message."""
    services.inbound_message_process(message_id=message_id)


@shared_task(name="integrations.tasks.inbound_process_many_task")
def inbound_process_many_task(message_ids: list[int]) -> None:
    """Parse and apply several inbound messages, runs of order releases together."""
    services.inbound_messages_process(message_ids=message_ids)


@shared_task(name="integrations.tasks.outbox_dispatch_task")
def outbox_dispatch_task(message_id: int) -> None:
    """Send one due outbox message."""
    outbox.outbox_dispatch(message_id=message_id)


@shared_task(name="integrations.tasks.outbox_dispatch_many_task")
def outbox_dispatch_many_task(message_ids: list[int]) -> None:
    """Send several due outbox messages one after another.

    Stops taking new ones once ``_DISPATCH_BUDGET_SECONDS`` have passed (a
    slow receiver) and queues the rest as a task of their own, so the task
    stays well inside its time limit.
    """
    started = time.monotonic()
    for position, message_id in enumerate(message_ids):
        if time.monotonic() - started > _DISPATCH_BUDGET_SECONDS:
            rest = OutboxMessage.objects.filter(pk__in=message_ids[position:])
            outbox.outbox_queue_dispatch_many(
                messages=list(rest.select_related("destination"))
            )
            return
        outbox.outbox_dispatch(message_id=message_id)


@shared_task(name="integrations.tasks.outbox_sweep_task")
def outbox_sweep_task() -> int:
    """Queue every outbox message whose next attempt is due.

    As for inbound work, a message queued a while ago to a destination whose
    queue still holds at least as many tasks as it has stale messages is
    most likely waiting there, not lost, and gets ``_BACKLOG_PATIENCE``
    periods before it is queued again.
    """
    period = settings.WAYBILL_REQUEUE_AFTER_SECONDS
    stale = outbox.outbox_stale_counts(older_than=period)
    patient = []
    for destination in Connection.objects.filter(pk__in=stale).only("code", "queue"):
        waiting = broker_queue_depth(destination.queue_name)
        if waiting and waiting >= stale[destination.pk]:
            patient.append(destination.pk)
    due = outbox.outbox_claim_due(
        patient=patient,
        patience=_BACKLOG_PATIENCE,
        lost_before=broker_started_at(),
    )
    outbox.outbox_queue_dispatch_many(messages=due)
    if due:
        logger.info("outbox sweep queued %s due message(s)", len(due))
    return len(due)


@shared_task(name="integrations.tasks.inbound_sweep_task")
def inbound_sweep_task() -> int:
    """Queue inbound messages left unprocessed or due for a retry.

    While tasks still wait in the inbound queue, a message queued a while ago
    is most likely among them, not lost: queuing it again would only add
    duplicates behind a backlog (which then grows with every sweep). So with
    a backlog only long-stale messages are re-queued; once the queue is
    empty, anything still unprocessed is lost and goes again at once. A
    task may carry several messages, so counting tasks under-counts what
    waits: the rule errs towards re-queuing, whose cost is a no-op for a
    message already processed, never towards waiting on a lost one.
    """
    waiting = broker_queue_depth(services.INBOUND_QUEUE)
    period = settings.WAYBILL_REQUEUE_AFTER_SECONDS
    requeue_after = period
    if waiting and waiting >= services.inbound_stale_count(older_than=period):
        # Every stale message may still be in the queue: be patient. Fewer
        # tasks waiting than stale messages means some are lost (a broker
        # restart), and then all stale ones go again at once.
        requeue_after = period * _BACKLOG_PATIENCE
    due = services.inbound_claim_due(
        requeue_after=requeue_after, lost_before=broker_started_at()
    )
    services.inbound_queue_processing_many(message_ids=due)
    if due:
        # Normally nothing is due here: a received message whose task is
        # lost, or a failed one whose retry time came, is worth a look.
        logger.warning("inbound sweep re-queued %s message(s)", len(due))
    return len(due)


@shared_task(name="integrations.tasks.file_drop_poll_task")
def file_drop_poll_task() -> int:
    """Store every file waiting in the file-drop folders."""
    return len(files.file_drop_poll())
