"""File-drop folders: each file-based connection reads ``<root>/<code>/``.

A partner writes a file under a name the poller ignores (one starting with
``.`` or ending in ``.tmp`` or ``.part``) and renames it to its real name
once it is complete. As a second guard, a file is taken only once it has
settled: its modification time is ``WAYBILL_FILE_SETTLE_SECONDS`` old, or
its size and modification time have not changed between two polls that far
apart. A file written in place by a writer that stalls longer than that can
still be read cut short; the rename convention is what prevents it.

Each file then goes through these folders, handled on its own so that one
bad file never holds up another file or another connection:

- ``processing/``: the file is claimed by renaming it here (atomic on one
  file system). A file left here by a crash is taken again after a minute;
  storing it twice is harmless because a repeat is recognised.
- ``done/``: the file was stored, or was a repeat of a stored message. It is
  archived as ``<message pk>-<name>`` (``<pk>.<n>-<name>`` for a later
  repeat), so no archived file is ever overwritten.
- ``rejected/``: the file could not be stored at all (too large, unreadable,
  refused by the database). It is kept as ``<UTC time>-<name>`` beside a
  ``.reason.txt`` file, and an ``invalid_message`` case is opened.

Archiving links the file under its new name and then unlinks the old one,
so the drop folders need a file system with hard links.

A file is a repeat when its name and content match a stored message (the
message id is the name plus a SHA-256 prefix), or when its content alone
matches one (the hub dedupes by body hash per connection). A new file that
reuses an old name, such as ``daily-214.edi`` every day, is a new message.
The stored filename is printable: undecodable bytes and control characters
are escaped, and a long name is cut to the field length keeping its
extension.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

from integrations.models import Connection, InboundMessage
from integrations.services import inbound_message_accept
from operations.services import case_open

logger = logging.getLogger(__name__)

STALE_CLAIM_SECONDS = 60
IGNORED_SUFFIXES = (".tmp", ".part")
# Archive and reject names must fit a file system's 255-byte name limit
# with room for the prefix and the ".reason.txt" suffix.
ARCHIVE_NAME_BYTES = 200
DIGEST_CHARS = 16

# What each poller process saw of a waiting file: (size, mtime in ns) and
# when it first saw them. This catches files whose modification time comes
# from a clock that runs ahead; it is only a help, since successive polls
# may run in different worker processes.
_sightings: dict[Path, tuple[tuple[int, int], float]] = {}


class _Unstorable(Exception):
    """A file that can never become an inbound message, with the reason."""


def file_drop_folder(connection: Connection) -> Path:
    """Return (and create) the folder a connection's files are dropped into."""
    folder = Path(settings.WAYBILL_FILE_DROP_ROOT) / connection.code
    for sub in ("processing", "done", "rejected"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def file_drop_poll(*, now: float | None = None) -> list[InboundMessage]:
    """Store the settled files of every file connection; return the new messages.

    ``now`` (seconds since the epoch) stands in for the clock in tests.
    """
    now = time.time() if now is None else now
    connections = Connection.objects.filter(
        enabled=True,
        protocol__in=[
            Connection.Protocol.X12_FILE,
            Connection.Protocol.CSV_FILE,
            Connection.Protocol.EDIFACT,
        ],
    )

    stored = []
    for connection in connections:
        try:
            folder = file_drop_folder(connection)
            claimed = _claim_waiting(folder, now=now)
        except OSError:
            # A folder that cannot be listed or written holds up only its
            # own connection.
            logger.exception(
                "file drop cannot read its folder",
                extra={"connection": connection.code},
            )
            continue
        for path in claimed:
            message = _handle(connection=connection, folder=folder, claimed=path)
            if message is not None:
                stored.append(message)

    return stored


def file_drop_printable_name(raw_name: str) -> str:
    """Return a file name as printable text: bad bytes and controls escaped.

    ``raw_name`` is a name as the file system returns it, where bytes that
    are not UTF-8 arrive as surrogate escapes.
    """
    text = os.fsencode(raw_name).decode("utf-8", "backslashreplace")
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode()
        for char in text
    )


def file_drop_shorten(name: str, limit: int, *, in_bytes: bool = False) -> str:
    """Cut a name to ``limit`` characters (or UTF-8 bytes), keeping its extension.

    A cut name ends its stem with ``~`` so it never passes for the original.
    """
    size = _utf8_size if in_bytes else len
    if size(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem) or len(extension) > 10:
        stem, extension = name, ""
    tail = f"~.{extension}" if extension else "~"
    room = limit - size(tail)
    if in_bytes:
        stem = stem.encode()[:room].decode(errors="ignore")
    else:
        stem = stem[:room]

    return stem + tail


def _utf8_size(text: str) -> int:
    return len(text.encode())


def _claim_waiting(folder: Path, *, now: float) -> list[Path]:
    """Claim the stale files in ``processing/``, then the settled new ones."""
    processing = folder / "processing"
    claimed = [
        path
        for path in sorted(processing.iterdir())
        if _mtime_or(path, default=now) < now - STALE_CLAIM_SECONDS
    ]
    for path in _settled(folder, now=now):
        target = processing / path.name
        # A file of the same name still in processing/ is being handled by
        # another poller or waits to be retried: taking this one now would
        # overwrite it, so it waits for a later poll.
        if target.exists():
            continue
        try:
            os.rename(path, target)
            # The claim time, not the write time, decides when it is stale.
            os.utime(target)
        except FileNotFoundError:
            continue  # another poller claimed it first
        claimed.append(target)

    return claimed


def _mtime_or(path: Path, *, default: float) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return default  # another poller just finished it


def _settled(folder: Path, *, now: float) -> list[Path]:
    """Return the files of ``folder`` that have not changed for the settle time."""
    settle = settings.WAYBILL_FILE_SETTLE_SECONDS
    settled = []
    waiting = set()
    for path in sorted(folder.iterdir()):
        if _ignored(path.name) or not path.is_file():
            continue
        try:
            status = path.stat()
        except FileNotFoundError:
            continue
        shape = (status.st_size, status.st_mtime_ns)
        previous, since = _sightings.get(path, (None, now))
        if previous != shape:
            since = now
        if now - status.st_mtime >= settle or now - since >= settle:
            settled.append(path)
        else:
            _sightings[path] = (shape, since)
            waiting.add(path)
    # Forget files that were taken or went away since the last poll.
    for path in [path for path in _sightings if path.parent == folder]:
        if path not in waiting:
            del _sightings[path]

    return settled


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(IGNORED_SUFFIXES)


def _handle(
    *, connection: Connection, folder: Path, claimed: Path
) -> InboundMessage | None:
    """Store and archive, or reject, one claimed file; never raise for its sake.

    Return the message when it is new. A database outage, or a failure to
    archive the file or put it aside, leaves it in ``processing/`` to be
    taken again; a stored message is then recognised as a repeat.
    """
    name = file_drop_printable_name(claimed.name)
    context = {"connection": connection.code, "file_name": name}
    try:
        stored = _store(connection=connection, claimed=claimed, name=name)
        if stored is None:
            return None
        message, created = stored
        _archive(
            connection=connection,
            folder=folder,
            claimed=claimed,
            name=name,
            message=message,
            created=created,
        )
    except FileNotFoundError:
        return None  # another poller took over a claim it thought stale
    except (OperationalError, InterfaceError):
        logger.warning(
            "file drop left a file for a retry: database unavailable",
            exc_info=True,
            extra=context,
        )
        return None
    except Exception:
        # The poller's outermost guard: whatever this file did, the files
        # after it and the other connections still go in.
        logger.exception("file drop left a file in processing/", extra=context)
        return None

    return message if created else None


def _store(
    *, connection: Connection, claimed: Path, name: str
) -> tuple[InboundMessage, bool] | None:
    """Store a claimed file as an inbound message, or reject it and return None."""
    try:
        body = _read(claimed)
        digest = hashlib.sha256(body).hexdigest()
        with transaction.atomic():
            return inbound_message_accept(
                connection=connection,
                message_id=_message_id(name, digest),
                body=body,
                content_type="application/edifact"
                if connection.protocol == Connection.Protocol.EDIFACT
                else "application/edi-x12",
                filename=file_drop_shorten(name, _field_length("filename")),
            )
    except (FileNotFoundError, OperationalError, InterfaceError):
        raise  # not the file's fault: it is taken again later
    except _Unstorable as exc:
        reason = str(exc)
    except Exception as exc:
        # A file that breaks storing is put aside with what went wrong.
        reason = f"could not be stored: {type(exc).__name__}: {exc}"
        logger.exception(
            "file drop could not store a file",
            extra={"connection": connection.code, "file_name": name},
        )
    _reject(connection=connection, claimed=claimed, name=name, reason=reason)

    return None


def _message_id(name: str, digest: str) -> str:
    """Return ``<name>:<SHA-256 prefix>``, the name cut to fit the field."""
    room = _field_length("message_id") - DIGEST_CHARS - 1
    return f"{file_drop_shorten(name, room)}:{digest[:DIGEST_CHARS]}"


def _field_length(field: str) -> int:
    length = InboundMessage._meta.get_field(field).max_length
    assert length is not None
    return length


def _archive(
    *,
    connection: Connection,
    folder: Path,
    claimed: Path,
    name: str,
    message: InboundMessage,
    created: bool,
) -> None:
    archived = _move_unique(claimed, folder / "done", str(message.pk), name)

    context = {"connection": connection.code, "message_id": message.pk}
    if created:
        logger.info("file drop stored %s as %s", name, archived.name, extra=context)
    else:
        logger.info(
            "file drop archived %s as %s: repeat of a stored message",
            name,
            archived.name,
            extra=context,
        )


def _read(claimed: Path) -> bytes:
    limit = settings.WAYBILL_INBOUND_MAX_BYTES
    try:
        size = claimed.stat().st_size
        if size > limit:
            raise _Unstorable(
                f"file is {size} bytes, larger than the {limit} bytes allowed"
            )
        return claimed.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _Unstorable(f"file cannot be read: {exc.strerror}") from exc


def _reject(*, connection: Connection, claimed: Path, name: str, reason: str) -> None:
    """Put a file aside in ``rejected/`` with its reason, and open a case.

    The move happens inside the case's transaction, so a file is never in
    ``rejected/`` without its case unless the commit itself fails.
    """
    rejected_folder = claimed.parent.parent / "rejected"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    with transaction.atomic():
        case = case_open(
            kind="invalid_message",
            dedupe_key=f"file-drop:{connection.code}:{uuid.uuid4().hex}",
            title=f"{connection.code} file {name} rejected: {reason}",
            detail=reason,
            reason_code="invalid_message",
        )
        rejected = _move_unique(claimed, rejected_folder, stamp, name)
        rejected.with_name(rejected.name + ".reason.txt").write_text(
            f"{name}\n{reason}\n", encoding="utf-8"
        )
        case.detail = f"{reason}\nThe file is kept as {rejected}."
        case.save(update_fields=["detail"])

    logger.error(
        "file drop rejected a file: %s",
        reason,
        extra={"connection": connection.code, "file_name": name},
    )


def _move_unique(source: Path, target_folder: Path, prefix: str, name: str) -> Path:
    """Move ``source`` to ``<prefix>-<name>`` in a folder; return where it went.

    A taken name becomes ``<prefix>.2-<name>``, ``<prefix>.3-<name>`` and
    so on. A hard link fails when its target exists, so no file is ever
    overwritten, even by a concurrent poller.
    """
    label, attempt = prefix, 1
    while True:
        target = target_folder / file_drop_shorten(
            f"{label}-{name}", ARCHIVE_NAME_BYTES, in_bytes=True
        )
        try:
            os.link(source, target)
        except FileExistsError:
            attempt += 1
            label = f"{prefix}.{attempt}"
            continue
        source.unlink()
        return target
