"""Liveness and readiness endpoints for operators."""

from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process can serve requests."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        return JsonResponse(
            {"status": "unavailable", "reason": str(exc)[:200]}, status=503
        )
    return JsonResponse({"status": "ok"})
