"""Store and process inbound messages in-process, as a worker would."""

from __future__ import annotations

import json
import uuid

from integrations.models import Connection, InboundMessage
from integrations.services import inbound_message_accept, inbound_message_process


def deliver(
    code: str, body: dict | list | bytes, *, message_id: str | None = None
) -> InboundMessage:
    """Accept a message for a connection and process it at once; return it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    message, _ = inbound_message_accept(
        connection=Connection.objects.get(code=code),
        message_id=message_id or str(uuid.uuid4()),
        body=raw,
        content_type="application/json",
    )
    inbound_message_process(message_id=message.pk)
    message.refresh_from_db()
    return message
