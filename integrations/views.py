"""The inbound endpoint: authenticate, size-check, store, answer after commit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations import signing
from integrations.models import Connection
from integrations.services import inbound_backlog_full, inbound_message_accept

logger = logging.getLogger(__name__)

# How long a sender should wait before retrying while the database is away.
_RETRY_AFTER_SECONDS = "5"


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    """Answer with an RFC 9457 problem document."""
    response = JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
    )
    response["Content-Type"] = "application/problem+json"
    return response


@csrf_exempt
@require_POST
def inbound_webhook(request: HttpRequest, connection: str) -> JsonResponse:
    """Accept one signed JSON message from an external system.

    Answers 202 with the stored message id after the commit, 200 with the
    first id for a repeat, and a 4xx with a reason for anything refused.
    """
    try:
        return _accept(request, connection_code=connection)
    except DatabaseError:
        logger.warning("inbound refused: database unavailable", exc_info=True)
        response = _problem(503, "Service Unavailable", "try again shortly")
        response["Retry-After"] = _RETRY_AFTER_SECONDS
        return response


def _accept(request: HttpRequest, *, connection_code: str) -> JsonResponse:
    connection = Connection.objects.filter(code=connection_code, enabled=True).first()
    if connection is None or connection.protocol != Connection.Protocol.HTTP_JSON:
        return _problem(404, "Not Found", "no such inbound connection")

    limit = settings.WAYBILL_INBOUND_MAX_BYTES
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    body = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(body) > limit:
        return _problem(413, "Content Too Large", f"the body limit is {limit} bytes")
    if request.content_type != "application/json":
        return _problem(415, "Unsupported Media Type", "send application/json")

    message_id = request.headers.get(signing.ID_HEADER, "")
    try:
        signing.verify(
            [connection.inbound_secret],
            message_id,
            request.headers.get(signing.TIMESTAMP_HEADER, ""),
            request.headers.get(signing.SIGNATURE_HEADER, ""),
            body,
            tolerance=settings.WAYBILL_WEBHOOK_TOLERANCE_SECONDS,
        )
    except signing.SignatureError as exc:
        logger.warning(
            "inbound refused: %s", exc, extra={"connection": connection.code}
        )
        return _problem(401, "Unauthorized", str(exc))

    if inbound_backlog_full():
        logger.warning(
            "inbound refused: backlog full", extra={"connection": connection.code}
        )
        response = _problem(429, "Too Many Requests", "the processing backlog is full")
        response["Retry-After"] = _RETRY_AFTER_SECONDS
        return response

    message, created = inbound_message_accept(
        connection=connection,
        message_id=message_id[:200],
        body=body,
        content_type=request.content_type,
    )
    status = 202 if created else 200
    return JsonResponse(
        {"message_id": message.pk, "duplicate": not created}, status=status
    )
