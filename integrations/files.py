"""File-drop folders: each file-based connection reads ``<root>/<code>/``.

A file is claimed by renaming it into ``processing/`` (atomic on one file
system), stored as an inbound message, then moved to ``done/``. A file left
in ``processing/`` by a crash is picked up again after a minute; storing it
twice is harmless because inbound messages are unique by name and content.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from integrations.models import Connection, InboundMessage
from integrations.services import inbound_message_accept

logger = logging.getLogger(__name__)

STALE_CLAIM_SECONDS = 60


def file_drop_folder(connection: Connection) -> Path:
    """Return (and create) the folder a connection's files are dropped into."""
    folder = Path(settings.WAYBILL_FILE_DROP_ROOT) / connection.code
    for sub in ("processing", "done"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def file_drop_poll() -> list[InboundMessage]:
    """Store the waiting files of every file connection; return the new messages."""
    stored = []
    connections = Connection.objects.filter(
        enabled=True,
        protocol__in=[
            Connection.Protocol.X12_FILE,
            Connection.Protocol.CSV_FILE,
            Connection.Protocol.EDIFACT,
        ],
    )
    for connection in connections:
        folder = file_drop_folder(connection)
        for path in _waiting_files(folder):
            message = _ingest(connection=connection, folder=folder, path=path)
            if message is not None:
                stored.append(message)
    return stored


def _waiting_files(folder: Path) -> list[Path]:
    fresh = [
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".")
    ]
    cutoff = time.time() - STALE_CLAIM_SECONDS
    stale = [
        path
        for path in (folder / "processing").iterdir()
        if path.stat().st_mtime < cutoff
    ]
    return sorted(fresh) + sorted(stale)


def _ingest(
    *, connection: Connection, folder: Path, path: Path
) -> InboundMessage | None:
    claimed = folder / "processing" / path.name
    try:
        if path != claimed:
            os.replace(path, claimed)
    except FileNotFoundError:
        return None  # another poller claimed it first
    body = claimed.read_bytes()
    with transaction.atomic():
        message, created = inbound_message_accept(
            connection=connection,
            message_id=path.name,
            body=body,
            content_type="application/edifact"
            if connection.protocol == Connection.Protocol.EDIFACT
            else "application/edi-x12",
            filename=path.name,
        )
    os.replace(claimed, folder / "done" / path.name)
    logger.info(
        "file drop stored %s",
        path.name,
        extra={"connection": connection.code, "message_id": message.pk},
    )
    return message if created else None
