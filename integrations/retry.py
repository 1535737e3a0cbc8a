"""Retry timing for outbound messages: per-connection backoff and Retry-After.

Pure functions: the random source and the clock are arguments, so tests fix
them instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Callable

from django.conf import settings

from integrations.models import Connection

Uniform = Callable[[float, float], float]


def retry_policy(connection: Connection | None) -> tuple[float, float]:
    """Return (first delay, longest delay) in seconds for a destination.

    A connection's own ``retry_base_seconds``/``retry_max_seconds`` apply,
    unless the environment set ``WAYBILL_OUTBOX_BACKOFF_BASE`` or ``_CAP``:
    then those replace every connection's policy, which is how the
    end-to-end tests retry within seconds.
    """
    if connection is None or settings.WAYBILL_OUTBOX_BACKOFF_OVERRIDE:
        return settings.WAYBILL_OUTBOX_BACKOFF_BASE, settings.WAYBILL_OUTBOX_BACKOFF_CAP
    return float(connection.retry_base_seconds), float(connection.retry_max_seconds)


def backoff_seconds(
    *,
    attempt: int,
    base_seconds: float,
    max_seconds: float,
    uniform: Uniform = random.uniform,
) -> float:
    """Return the wait after failed attempt ``attempt`` (1 for the first).

    The ceiling doubles per attempt up to ``max_seconds``; the wait is drawn
    from the upper half below it. The jitter spreads the retries of many
    messages that failed together, so a recovering receiver is not hit by
    all of them in the same second.
    """
    exponent = min(max(attempt - 1, 0), 62)
    ceiling = min(max_seconds, base_seconds * 2**exponent)
    return uniform(ceiling / 2, ceiling)


def retry_after_seconds(value: str, *, now: dt.datetime) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, or None if unreadable.

    RFC 9110 §10.2.3 allows whole seconds or an HTTP date; a date in the
    past asks for no wait at all.
    """
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        # An HTTP date is always GMT, even when the zone is missing.
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (moment - now).total_seconds())
