"""Inbound endpoints: authenticate, size-check, store, answer after commit."""

from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations import signing
from integrations.models import Connection
from integrations.services import (
    inbound_backlog_full,
    inbound_batch_accept,
    inbound_message_accept,
)

logger = logging.getLogger(__name__)

# How long a sender should wait before retrying while the hub is busy or away.
_RETRY_AFTER_SECONDS = "5"
_NDJSON = "application/x-ndjson"
# The longest message id stored; a longer one is refused, never cut, so two
# ids that share a prefix can never be taken for a repeat of each other.
_MAX_MESSAGE_ID = 200
# Unicode categories an id may not hold, by the name a refusal gives them.
_UNSTORABLE = {"Cc": "the control character", "Cs": "the lone surrogate"}


class _Refused(Exception):
    """A request answered with a problem document instead of being stored."""

    def __init__(
        self, status: int, title: str, detail: str, retry: bool = False
    ) -> None:
        super().__init__(detail)
        self.response = _problem(status, title, detail)
        if retry:
            self.response["Retry-After"] = _RETRY_AFTER_SECONDS


@dataclass
class _Delivery:
    connection: Connection
    message_id: str
    body: bytes
    content_type: str


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    """Answer with an RFC 9457 problem document."""
    response = JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
    )
    response["Content-Type"] = "application/problem+json"
    return response


def _guarded(handler):
    """Turn refusals into their answers and a database outage into a 503."""

    def view(request: HttpRequest, connection: str) -> JsonResponse:
        try:
            return handler(request, connection)
        except _Refused as refused:
            return refused.response
        except DatabaseError:
            logger.warning("inbound refused: database unavailable", exc_info=True)
            response = _problem(503, "Service Unavailable", "try again shortly")
            response["Retry-After"] = _RETRY_AFTER_SECONDS
            return response

    view.__doc__ = handler.__doc__
    view.__name__ = handler.__name__
    return csrf_exempt(require_POST(view))


@_guarded
def inbound_webhook(request: HttpRequest, connection: str) -> JsonResponse:
    """Accept one signed JSON message from an external system.

    Answers 202 with the stored message id after the commit, 200 with the
    first id for a repeat, and a 4xx with a reason for anything refused.
    """
    delivery = _authenticated(
        request,
        connection,
        # Carriers (connection codes carrier-<name>) post XML as well as JSON.
        content_types={"application/json", "application/xml", "text/xml"}
        if connection.startswith("carrier-")
        else {"application/json"},
    )
    message, created = inbound_message_accept(
        connection=delivery.connection,
        message_id=delivery.message_id,
        body=delivery.body,
        content_type=delivery.content_type,
    )
    status = 202 if created else 200
    return JsonResponse(
        {"message_id": message.pk, "duplicate": not created}, status=status
    )


@_guarded
def inbound_bulk(request: HttpRequest, connection: str) -> JsonResponse:
    """Accept a signed batch of events (a JSON array or NDJSON), one message each.

    Every item must carry an ``id``; it becomes the item's message id, so a
    resent batch stores nothing twice. The answer lists one result per item.
    """
    delivery = _authenticated(
        request, connection, content_types={"application/json", _NDJSON}
    )
    items = _batch_items(delivery)
    results = inbound_batch_accept(connection=delivery.connection, items=items)
    accepted = sum(1 for result in results if result["status"] == "accepted")
    return JsonResponse(
        {"accepted": accepted, "results": results}, status=202 if accepted else 200
    )


def _authenticated(
    request: HttpRequest, connection_code: str, *, content_types: set[str]
) -> _Delivery:
    """Return the verified delivery, or raise ``_Refused`` with the reason."""
    connection = Connection.objects.filter(code=connection_code, enabled=True).first()
    if connection is None or connection.protocol != Connection.Protocol.HTTP_JSON:
        raise _Refused(404, "Not Found", "no such inbound connection")

    limit = settings.WAYBILL_INBOUND_MAX_BYTES
    declared_text = request.META.get("CONTENT_LENGTH") or ""
    if not declared_text.isdigit():
        # Django reads a body without Content-Length (a chunked upload) as
        # empty; refusing it is clearer than a misleading signature error.
        raise _Refused(411, "Length Required", "send the body with a Content-Length")
    declared = int(declared_text)
    body = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(body) > limit:
        raise _Refused(413, "Content Too Large", f"the body limit is {limit} bytes")
    if request.content_type not in content_types:
        accepted = " or ".join(sorted(content_types))
        raise _Refused(415, "Unsupported Media Type", f"send {accepted}")

    message_id = request.headers.get(signing.ID_HEADER, "")
    if len(message_id) > _MAX_MESSAGE_ID:
        raise _Refused(
            400,
            "Bad Request",
            f"{signing.ID_HEADER} is over {_MAX_MESSAGE_ID} characters",
        )
    id_fault = _message_id_fault(message_id)
    if id_fault:
        raise _Refused(400, "Bad Request", f"{signing.ID_HEADER} {id_fault}")
    try:
        signing.verify(
            signing.accepted_secrets(
                connection.inbound_secret,
                connection.previous_inbound_secret,
                connection.inbound_secret_rotated_at,
                connection.secret_overlap_seconds,
            ),
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
        raise _Refused(401, "Unauthorized", str(exc)) from exc

    if inbound_backlog_full():
        logger.warning(
            "inbound refused: backlog full", extra={"connection": connection.code}
        )
        raise _Refused(
            429, "Too Many Requests", "the processing backlog is full", retry=True
        )
    return _Delivery(connection, message_id, body, request.content_type)


def _batch_items(delivery: _Delivery) -> list[tuple[str, bytes]]:
    """Split a batch into (item id, item bytes); refuse it whole if malformed."""
    try:
        if delivery.content_type == _NDJSON:
            lines = [line for line in delivery.body.splitlines() if line.strip()]
            parsed = [(json.loads(line), line) for line in lines]
        else:
            array = json.loads(delivery.body)
            if not isinstance(array, list):
                raise _Refused(400, "Bad Request", "a JSON batch must be an array")
            parsed = [(item, _compact(item)) for item in array]
    except (ValueError, RecursionError) as exc:
        # Decode errors are ValueErrors too, as are integers too long to
        # convert; very deep nesting is a RecursionError.
        raise _Refused(
            400, "Bad Request", f"the batch is not valid JSON: {exc}"
        ) from exc

    limit = settings.WAYBILL_INBOUND_BATCH_MAX_ITEMS
    if not parsed or len(parsed) > limit:
        raise _Refused(400, "Bad Request", f"a batch holds 1 to {limit} items")
    items = []
    for index, (item, raw) in enumerate(parsed):
        item_id = _item_id(item)
        if item_id is None:
            raise _Refused(400, "Bad Request", f"item {index} has no id")
        if len(item_id) > _MAX_MESSAGE_ID:
            raise _Refused(
                400,
                "Bad Request",
                f"item {index} has an id over {_MAX_MESSAGE_ID} characters",
            )
        id_fault = _message_id_fault(item_id)
        if id_fault:
            raise _Refused(400, "Bad Request", f"item {index} id {id_fault}")
        items.append((item_id, raw))
    return items


def _item_id(item: object) -> str | None:
    """Return a batch item's id as text, or None when it has none.

    Any non-empty text or number is an id, 0 included; true/false, null,
    objects and lists are not.
    """
    if not isinstance(item, dict):
        return None
    value = item.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value)

    return text if text.strip() else None


def _message_id_fault(message_id: str) -> str:
    """Return why a message id's characters cannot be stored, or ''.

    Control characters (NUL above all, which PostgreSQL text cannot hold)
    and lone surrogates (which UTF-8 cannot encode) would fail at insert,
    which a sender would read as an outage and retry for ever.
    """
    for char in message_id:
        category = unicodedata.category(char)
        if category in _UNSTORABLE:
            return f"holds {_UNSTORABLE[category]} U+{ord(char):04X}"

    return ""


def _compact(item: object) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
