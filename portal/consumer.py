"""The worker's broker consumer, retrying a lost broker every second.

Kombu's default reconnection backoff grows by 2 s per attempt up to 30 s, so
after a Redis restart a worker could sit idle for half a minute while the
sweepers had already queued the lost work again (RELIABILITY R3 wants the
backlog moving within two sweeper periods). This consumer keeps Celery's
own handling (logging, shutdown, unlimited retries) and only shortens the
wait between attempts.
"""

from __future__ import annotations

import functools

from celery.worker.consumer import Consumer

# Seconds: first retry at once, then every half second, never more than one.
RETRY_INTERVALS = {"interval_start": 0, "interval_step": 0.5, "interval_max": 1}


class PromptReconnectConsumer(Consumer):
    """A ``Consumer`` whose broker connection retries at most every second."""

    def ensure_connected(self, conn):  # noqa: ANN001, ANN201 - Celery's signature
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, **RETRY_INTERVALS
        )
        return super().ensure_connected(conn)
