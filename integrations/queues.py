"""Which Celery queues the workers must consume.

Each connection's outbound messages travel on its own queue
(``Connection.queue_name``: the ``queue`` override, or ``outbox.<code>``),
and each outbound queue has a worker of its own (``operations.stack.
worker_layout``), so one slow destination holds only its own processes. A
worker consumes a queue only if it was started with it, so the lists come
from the database when workers start: ``manage.py worker_queues --layout``
prints one worker per line for a deployment, and the stack (demo, fault
tests) starts the same layout.
"""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError
from django.utils import timezone

from integrations.models import Connection
from integrations.seeding import DEFAULT_CONNECTIONS

# Beat's periodic tasks go to Celery's default queue; inbound processing has
# its own (``integrations.services.INBOUND_QUEUE``).
HUB_QUEUES = ("celery", "inbound")


def outbox_queue_names() -> list[str]:
    """Return every outbound queue a connection uses, sorted, without repeats.

    The default connections' queues are always included, so a worker started
    before the first seed still serves them.
    """
    names = {f"outbox.{spec['code']}" for spec in DEFAULT_CONNECTIONS}
    try:
        for code, queue in Connection.objects.values_list("code", "queue"):
            names.add(queue or f"outbox.{code}")
    except DatabaseError:
        # A database that is not migrated yet has no connections to add.
        pass
    return sorted(names)


def worker_queues() -> str:
    """Return the comma-separated ``-Q`` value for a worker that serves everything."""
    return ",".join([*HUB_QUEUES, *outbox_queue_names()])


def broker_queue_depth(name: str) -> int | None:
    """Return how many tasks wait in a broker queue, or None if unknown.

    The sweepers use it to tell a task that is lost from one that is only
    waiting behind a long queue; a broker that cannot say is treated as
    unknown, never as empty.
    """
    from celery import current_app

    try:
        with current_app.connection_for_write() as connection:
            with connection.channel() as channel:
                _, count, _ = channel.queue_declare(queue=name, passive=True)
                return int(count)
    except Exception:  # noqa: BLE001 - any broker trouble means "unknown"
        return None


def broker_started_at() -> dt.datetime | None:
    """Return when the broker last started, where it can say (Redis), else None.

    A task published before that moment is gone with the old process (the
    broker keeps nothing on disk, or lost what it had not written), so work
    queued earlier and still waiting is lost, however long the queue is now.
    """
    from celery import current_app

    try:
        with current_app.connection_for_write() as connection:
            client = getattr(connection.default_channel, "client", None)
            uptime = client.info("server").get("uptime_in_seconds") if client else None
    except Exception:  # noqa: BLE001 - any broker trouble means "unknown"
        return None
    if uptime is None:
        return None
    return timezone.now() - dt.timedelta(seconds=int(uptime))
