"""Per-connection circuit breakers shared by every worker through the database.

Closed: sends go through; consecutive failures are counted. At the
connection's threshold the breaker opens: sends to that destination are
deferred, not attempted, until ``open_until``. Then one trial send is let
through (half open); its success closes the breaker, its failure opens it
again. Other destinations are untouched: each has its own breaker and queue.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from integrations.models import CircuitBreaker, Connection

logger = logging.getLogger(__name__)


def _locked_breaker(connection: Connection) -> CircuitBreaker:
    CircuitBreaker.objects.get_or_create(connection=connection)
    return CircuitBreaker.objects.select_for_update().get(connection=connection)


def breaker_admit(*, connection: Connection) -> dt.datetime | None:
    """Return None when a send may go ahead, else the time to try again.

    A breaker whose open period has ended admits exactly one trial: the
    first caller moves it to half open and holds it for another period.
    """
    now = timezone.now()
    with transaction.atomic():
        breaker = _locked_breaker(connection)
        if breaker.state == CircuitBreaker.State.CLOSED:
            return None
        if breaker.open_until and breaker.open_until > now:
            return breaker.open_until
        breaker.state = CircuitBreaker.State.HALF_OPEN
        breaker.open_until = now + dt.timedelta(
            seconds=connection.breaker_reset_seconds
        )
        breaker.save(update_fields=["state", "open_until", "changed_at"])
    logger.info("breaker half open: trial send", extra={"connection": connection.code})
    return None


def breaker_record(*, connection: Connection, success: bool) -> str:
    """Count a send's outcome; return the breaker state afterwards."""
    now = timezone.now()
    with transaction.atomic():
        breaker = _locked_breaker(connection)
        if success:
            breaker.state = CircuitBreaker.State.CLOSED
            breaker.failures = 0
            breaker.open_until = None
        else:
            breaker.failures += 1
            trial_failed = breaker.state == CircuitBreaker.State.HALF_OPEN
            if trial_failed or breaker.failures >= connection.breaker_threshold:
                if breaker.state != CircuitBreaker.State.OPEN:
                    logger.warning(
                        "breaker open", extra={"connection": connection.code}
                    )
                breaker.state = CircuitBreaker.State.OPEN
                reset = dt.timedelta(seconds=connection.breaker_reset_seconds)
                breaker.open_until = now + reset
        breaker.save(update_fields=["state", "failures", "open_until", "changed_at"])
    return breaker.state
