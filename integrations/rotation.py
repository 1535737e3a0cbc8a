"""Rotate a connection's inbound webhook secret without losing deliveries."""

from __future__ import annotations

import logging
import secrets

from django.db import transaction
from django.utils import timezone

from integrations.models import Connection

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
SECRET_BYTES = 32


def connection_rotate_inbound_secret(*, connection_id: int) -> tuple[Connection, str]:
    """Give a connection a new inbound secret; return it and the new secret.

    The old secret becomes the previous one and stays valid for the
    connection's overlap window. A second rotation inside that window ends
    the oldest secret at once, since only one previous secret is kept.
    """
    new_secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection_id)
        connection.previous_inbound_secret = connection.inbound_secret
        connection.inbound_secret = new_secret
        connection.inbound_secret_rotated_at = timezone.now()
        connection.save(
            update_fields=[
                "previous_inbound_secret",
                "inbound_secret",
                "inbound_secret_rotated_at",
            ]
        )

    logger.info("inbound secret rotated", extra={"connection": connection.code})
    return connection, new_secret
