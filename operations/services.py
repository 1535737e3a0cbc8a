"""Exception cases: open one per problem, resolve when fixed."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from operations.models import ExceptionCase

logger = logging.getLogger(__name__)

# Hours customer service has to act, by kind; delivery exceptions are the
# ones a customer is waiting on.
SLA_HOURS = {
    "delivery_exception": 4,
    "order_hold": 8,
    "dead_letter": 8,
    "unmapped_code": 24,
    "unknown_reference": 24,
    "invalid_message": 24,
}


def case_open(
    *, kind: str, dedupe_key: str, title: str, detail: str = "", **links: Any
) -> ExceptionCase:
    """Open a case, or reopen and update the one already open for the same problem.

    ``links`` are optional foreign keys: order, shipment, inbound_message,
    outbox_message, and ``reason_code``.
    """
    now = timezone.now()
    defaults = {
        "kind": kind,
        "title": title[:200],
        "detail": detail,
        "state": ExceptionCase.State.OPEN,
        "resolved_at": None,
        **links,
    }
    # The SLA clock starts when the case is first opened; a repeat of the
    # same problem updates the text but does not buy more time.
    sla_due_at = now + dt.timedelta(hours=SLA_HOURS.get(kind, 24))
    with transaction.atomic():
        case, created = ExceptionCase.objects.update_or_create(
            dedupe_key=dedupe_key,
            defaults=defaults,
            create_defaults={**defaults, "sla_due_at": sla_due_at},
        )
    if created:
        logger.info("exception case opened: %s", title, extra={"case_id": case.pk})
    return case


def case_resolve_many(*, dedupe_keys: list[str]) -> int:
    """Resolve the open cases of many problems at once; return how many."""
    if not dedupe_keys:
        return 0
    return ExceptionCase.objects.filter(
        dedupe_key__in=dedupe_keys, state=ExceptionCase.State.OPEN
    ).update(state=ExceptionCase.State.RESOLVED, resolved_at=timezone.now())


def case_resolve(*, dedupe_key: str) -> int:
    """Resolve the open case for a problem; return how many were resolved."""
    return ExceptionCase.objects.filter(
        dedupe_key=dedupe_key, state=ExceptionCase.State.OPEN
    ).update(state=ExceptionCase.State.RESOLVED, resolved_at=timezone.now())
