"""The background sender every simulator uses to deliver its webhooks.

Webhooks wait in a queue ordered by the time they are due and then by the
order they were queued, and one thread sends them one at a time. One thread
is what keeps the per-subject order: a later step of a chain is never sent
before an earlier one, and while a delivery is being retried everything
behind it waits too.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from integrations import signing

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.2
MAX_BACKOFF = 5.0
# A Retry-After longer than this is treated as this: the simulator should
# come back promptly once the hub does, not sleep through a demo.
MAX_RETRY_AFTER = 30.0
REQUEST_TIMEOUT = 10.0
# 408 and 429 are the 4xx answers that say "later", not "never".
_RETRYABLE_4XX = frozenset({408, 429})


@dataclass(order=True)
class Outgoing:
    """One webhook ready to send: its exact signed body and when it is due."""

    due: float
    seq: int
    id: str = field(compare=False)
    type: str = field(compare=False)
    subject: str = field(compare=False)
    body: bytes = field(compare=False)


class SendQueue:
    """Webhooks waiting to be sent, earliest due first, plus the one in flight."""

    def __init__(self) -> None:
        self._heap: list[Outgoing] = []
        self._in_flight = 0
        self._changed = threading.Condition()

    def put(self, item: Outgoing) -> None:
        """Queue one webhook."""
        with self._changed:
            heapq.heappush(self._heap, item)
            self._changed.notify_all()

    def take(
        self, *, stop: threading.Event, paused: Callable[[], bool]
    ) -> Outgoing | None:
        """Wait for the next due webhook; return ``None`` once stopping."""
        with self._changed:
            while not stop.is_set():
                wait = 0.5
                if self._heap and not paused():
                    wait = self._heap[0].due - time.monotonic()
                    if wait <= 0:
                        self._in_flight += 1
                        return heapq.heappop(self._heap)
                elif self._heap:
                    wait = 0.05
                self._changed.wait(min(wait, 0.5))
        return None

    def done(self) -> None:
        """Mark the webhook taken last as finished."""
        with self._changed:
            self._in_flight -= 1

    def clear(self) -> int:
        """Drop every queued webhook; return how many were dropped."""
        with self._changed:
            dropped = len(self._heap)
            self._heap.clear()
            return dropped

    def wake(self) -> None:
        """Wake a waiting ``take`` so it sees a stop or a change of pause."""
        with self._changed:
            self._changed.notify_all()

    def __len__(self) -> int:
        with self._changed:
            return len(self._heap) + self._in_flight


@dataclass
class SendStats:
    """What the sender has done since start or the last reset."""

    sent: Counter = field(default_factory=Counter)
    accepted: int = 0
    duplicate: int = 0
    attempts: int = 0
    retries: int = 0
    refused: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Return the counters as JSON-ready values."""
        return {
            "sent": dict(self.sent),
            "sent_accepted": self.accepted,
            "sent_duplicate": self.duplicate,
            "attempts": self.attempts,
            "retries": self.retries,
            "refused": list(self.refused),
        }


class Sender:
    """Deliver queued webhooks to the hub, retrying until each gets an answer."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        queue: SendQueue,
        repeat: Callable[[], int],
        paused: Callable[[], bool],
    ) -> None:
        self.url = url
        self.secret = secret
        self.queue = queue
        self.repeat = repeat
        self.paused = paused
        self.stats = SendStats()
        self.stats_lock = threading.Lock()
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sender", daemon=True)
        self._session = requests.Session()

    def start(self) -> None:
        """Start the sender thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current attempt; queued webhooks are dropped."""
        self.stopping.set()
        self.queue.wake()
        self._thread.join(timeout)
        self._session.close()

    def reset_stats(self) -> None:
        """Forget every counter."""
        with self.stats_lock:
            self.stats = SendStats()

    def snapshot(self) -> dict:
        """Return the counters as a JSON-ready dict."""
        with self.stats_lock:
            return self.stats.as_dict()

    def _run(self) -> None:
        while not self.stopping.is_set():
            item = self.queue.take(stop=self.stopping, paused=self.paused)
            if item is None:
                return
            try:
                for _ in range(max(1, self.repeat())):
                    self._deliver(item)
            except Exception:  # noqa: BLE001 - the sender thread must survive
                logger.exception("webhook %s could not be sent", item.id)
            finally:
                self.queue.done()

    def _deliver(self, item: Outgoing) -> None:
        """Send one webhook until the hub gives a final answer or the sender stops.

        Connection errors, 5xx, 408 and 429 are retried with a backoff of
        0.2 s doubling to 5 s (or the hub's Retry-After), without limit: a
        simulator never loses a webhook because the hub was down.
        """
        backoff = FIRST_BACKOFF
        while not self.stopping.is_set():
            status, retry_after = self._attempt(item)
            if status is not None and _is_final(status):
                self._record_final(item, status)
                return

            with self.stats_lock:
                self.stats.retries += 1
            # Retry-After is honoured, with a small floor so "0" cannot spin.
            wait = backoff if retry_after is None else max(retry_after, FIRST_BACKOFF)
            logger.warning(
                "webhook %s (%s) answered %s; retrying in %.2f s",
                item.id,
                item.type,
                status,
                wait,
            )
            self.stopping.wait(wait)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _attempt(self, item: Outgoing) -> tuple[int | None, float | None]:
        """POST once with fresh signature headers; return (status, Retry-After)."""
        headers = {
            "Content-Type": "application/json",
            **signing.signed_headers(self.secret, item.id, item.body),
        }
        with self.stats_lock:
            self.stats.attempts += 1
        try:
            response = self._session.post(
                self.url, data=item.body, headers=headers, timeout=REQUEST_TIMEOUT
            )
        except requests.RequestException as exc:
            logger.info("webhook %s not delivered: %s", item.id, type(exc).__name__)
            return None, None

        return response.status_code, _retry_after(response)

    def _record_final(self, item: Outgoing, status: int) -> None:
        with self.stats_lock:
            if 200 <= status < 300:
                self.stats.sent[item.type] += 1
                if status == 200:
                    self.stats.duplicate += 1
                else:
                    self.stats.accepted += 1
                return
            self.stats.refused.append(
                {
                    "id": item.id,
                    "type": item.type,
                    "subject": item.subject,
                    "status": status,
                }
            )
        logger.error("webhook %s (%s) refused with %s", item.id, item.type, status)


def _is_final(status: int) -> bool:
    """Return whether an answer ends the delivery (success or refusal)."""
    return status < 500 and status not in _RETRYABLE_4XX


def _retry_after(response: requests.Response) -> float | None:
    """Return the Retry-After seconds of a 429/503 answer, if it gives one."""
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit():
        return None
    return min(float(value), MAX_RETRY_AFTER)
