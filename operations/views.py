"""Liveness and readiness endpoints for operators.

They answer anyone (load balancers do not log in), so they name what is down
but never how: host names, user names and driver messages go to the log.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process can serve requests."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker answer, else 503 with reasons.

    Inbound messages are stored in the database and their processing is queued
    on the broker; without either the hub accepts work it cannot start.
    """
    checks = {"database": _database_check(), "broker": _broker_check()}
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - readiness reports any failure
        logger.warning("readiness: database unavailable", exc_info=True)
        return "unavailable"
    return "ok"


def _broker_check() -> str:
    try:
        with current_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - readiness reports any failure
        logger.warning("readiness: broker unavailable", exc_info=True)
        return "unavailable"
    return "ok"
