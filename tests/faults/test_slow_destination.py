"""R9: one destination is slow; its sends time out and its breaker opens.

Messages for the ERP, WMS and TMS are recorded at a steady rate. After a
baseline period the TMS receiver still answers, but only after
``RESPONSE_DELAY`` (10 s, RELIABILITY R9), for ``SLOW_SECONDS`` (20 s in CI,
60 s under ``make chaos``); then it answers at once again. The hub must give
up on each TMS request after the connection's ``timeout_seconds``, count it
as a failure, open the TMS breaker after ``breaker_threshold`` of them, and
deliver every TMS message once the receiver is fast again. The ERP and WMS
messages must keep their pace: p95 of created-to-delivered within 1.2x the
baseline p95 of the same run (in CI plus 0.25 s for a shared 2-core
machine, as in the outage test).

Each outbound queue has a worker of its own (``operations.stack.
worker_layout``), so the TMS requests hold only the TMS worker's process
while they wait for their timeout; the ERP's and the WMS's keep sending.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import pytest

from integrations.models import CircuitBreaker, Connection, OutboxMessage
from tests.faults.conftest import (
    SCALE,
    ProbeProducer,
    p95,
    record_figures,
    sized,
    wait_for,
)

pytestmark = pytest.mark.e2e

BASELINE_SECONDS = float(sized(10, 30))
SLOW_SECONDS = float(sized(20, 60))
RESPONSE_DELAY = 10.0
RATE_PER_DESTINATION = 4.0
NOISE_ALLOWANCE = 0.0 if SCALE == "chaos" else 0.25
PREFIX = "r9-slow"
OTHERS = ("erp", "wms")
RESET_SECONDS = 5


class OthersSlowedDown(AssertionError):
    """The healthy destinations' p95 went past R9's bound."""


def _rows(phase: str, codes: tuple[str, ...]) -> list[tuple[float, float]]:
    """Return (created, delivered) epoch seconds of a phase's messages."""
    rows = OutboxMessage.objects.filter(
        subject__startswith=f"{PREFIX}:{phase}:", destination__code__in=codes
    ).values_list("created_at", "delivered_at")
    return [(created.timestamp(), delivered.timestamp()) for created, delivered in rows]


def _latencies(phase: str, codes: tuple[str, ...]) -> list[float]:
    return [delivered - created for created, delivered in _rows(phase, codes)]


def _failed_attempts(arrivals: dict[str, list[float]]) -> list[dict]:
    """Return every recorded TMS failure, oldest first, with how long it took.

    The n-th error of a message belongs to the n-th request the receiver saw
    with its key; ``waited`` runs from that request's arrival to the error.
    """
    failures = []
    messages = OutboxMessage.objects.filter(destination__code="tms")
    for message in messages.exclude(errors=[]):
        requests = arrivals.get(message.idempotency_key, [])
        for arrival, error in zip(requests, message.errors, strict=False):
            at = dt.datetime.fromisoformat(error["at"]).timestamp()
            kind = error["error"].split(":")[0]
            failures.append({"at": at, "waited": at - arrival, "kind": kind})
    return sorted(failures, key=lambda failure: failure["at"])


def _arrivals(deliveries) -> dict[str, list[float]]:
    """Return each key's request arrival times at a receiver, oldest first."""
    arrivals: dict[str, list[float]] = {}
    for delivery in sorted(deliveries, key=lambda delivery: delivery.at):
        arrivals.setdefault(delivery.key, []).append(delivery.at)
    return arrivals


def _delivered_between(start: float, end: float, codes: tuple[str, ...]) -> int:
    return sum(
        start <= delivered < end
        for phase in ("baseline", "slow")
        for _, delivered in _rows(phase, codes)
    )


@dataclass
class _Timeline:
    """When the run slowed the TMS down, saw its breaker open, sped it up."""

    slowed: float
    opened: float
    recovered: float
    drained: float
    failures_when_opened: int


def _slow_down_and_recover(tms, *, timeout: float, threshold: int) -> _Timeline:
    """Run the baseline, the slow period and the recovery; wait for the drain."""
    producer = ProbeProducer(
        prefix=PREFIX, rate=RATE_PER_DESTINATION, codes=("erp", "wms", "tms")
    )
    producer.start()
    time.sleep(BASELINE_SECONDS)
    tms.delay = RESPONSE_DELAY
    producer.phase = "slow"
    slowed = time.time()
    breaker = wait_for(
        lambda: CircuitBreaker.objects.filter(
            connection__code="tms", state="open"
        ).first(),
        # Even one send at a time opens it within threshold x timeout.
        timeout=threshold * timeout + 10,
        interval=0.2,
        what="the TMS breaker to open",
    )
    opened = time.time()
    time.sleep(max(0.0, slowed + SLOW_SECONDS - opened))
    tms.delay = 0.0
    producer.phase = "after"
    recovered = time.time()
    time.sleep(3)
    producer.stopping.set()
    producer.join()

    wait_for(
        lambda: not OutboxMessage.objects.exclude(state="delivered").exists(),
        # Generous: a claim skipped because another process held the
        # connection's row waits for the sweeper's re-queue (30 s), and the
        # re-queued task can be skipped again.
        timeout=180,
        what="every destination's backlog to drain",
    )
    drained = time.time() - recovered
    return _Timeline(slowed, opened, recovered, drained, breaker.failures)


def _others_rate(start: float, end: float) -> float:
    """Return ERP and WMS deliveries per second between two moments."""
    return round(_delivered_between(start, end, OTHERS) / (end - start), 1)


def test_slow_destination_times_out_opens_its_breaker_and_spares_the_others(
    fault_env, start_hub, receivers
):
    for code in OTHERS:
        receivers(code)
    tms = receivers("tms")
    Connection.objects.filter(code="tms").update(
        breaker_threshold=5, breaker_reset_seconds=RESET_SECONDS, max_attempts=100
    )
    tms_connection = Connection.objects.get(code="tms")
    timeout = tms_connection.timeout_seconds
    threshold = tms_connection.breaker_threshold
    # Otherwise a "slow" receiver would still answer in time.
    assert timeout < RESPONSE_DELAY
    start_hub(fault_env)

    run = _slow_down_and_recover(tms, timeout=timeout, threshold=threshold)

    failures = _failed_attempts(_arrivals(tms.deliveries))
    waits = [failure["waited"] for failure in failures]
    tms_slow = _rows("slow", ("tms",))
    slow_requests = [d for d in tms.deliveries if run.slowed <= d.at < run.recovered]
    baseline = p95(_latencies("baseline", OTHERS))
    slow = p95(_latencies("slow", OTHERS))
    requeue_after = float(fault_env["WAYBILL_REQUEUE_AFTER_SECONDS"])
    # An ERP or WMS message this late sat until the sweeper queued it again.
    stalled = [
        latency
        for phase in ("baseline", "slow", "after")
        for latency in _latencies(phase, OTHERS)
        if latency >= requeue_after
    ]
    record_figures(
        "R9-slow",
        slow_seconds=SLOW_SECONDS,
        response_delay_seconds=RESPONSE_DELAY,
        tms_timeout_seconds=timeout,
        breaker_threshold=threshold,
        breaker_opened_after_seconds=round(run.opened - run.slowed, 1),
        failures_when_opened=run.failures_when_opened,
        timed_out_attempts=len(failures),
        error_kinds=sorted({failure["kind"] for failure in failures}),
        gave_up_after_seconds=[round(min(waits), 2), round(max(waits), 2)],
        tms_messages_while_slow=len(tms_slow),
        tms_requests_while_slow=len(slow_requests),
        others_per_second_baseline=_others_rate(
            run.slowed - BASELINE_SECONDS, run.slowed
        ),
        others_per_second_until_open=_others_rate(run.slowed, run.opened),
        baseline_p95_seconds=round(baseline, 3),
        slow_p95_seconds=round(slow, 3),
        slow_max_seconds=round(max(_latencies("slow", OTHERS)), 1),
        ratio=round(slow / baseline, 1),
        others_delivered_only_after_requeue=len(stalled),
        requeue_after_seconds=requeue_after,
        drained_seconds_after_recovery=round(run.drained, 1),
    )

    # Each TMS attempt ended in a read timeout after the connection's
    # timeout (plus at most 2 s of recording on a busy machine), long before
    # the receiver's late answer.
    assert {failure["kind"] for failure in failures} == {"ReadTimeout"}
    assert timeout - 0.1 <= min(waits) and max(waits) <= timeout + 2.0
    # The breaker opened when the threshold-th failure was recorded: not
    # before (0.5 s for the error's own write) and not long after (the
    # 0.2 s poll, and a busy database).
    opened_by = failures[threshold - 1]["at"]
    assert opened_by <= run.opened + 0.5
    assert run.opened - opened_by <= 1.5
    # Once open it let one trial through per reset period, not the stream
    # of messages recorded for the TMS meanwhile.
    assert len(tms_slow) >= RATE_PER_DESTINATION * SLOW_SECONDS / 2
    assert len(slow_requests) <= threshold + 2 + SLOW_SECONDS / RESET_SECONDS
    # Nothing is lost: every TMS message reached the receiver, and each one
    # recorded while it was slow was delivered after it recovered.
    tms_keys = OutboxMessage.objects.filter(destination__code="tms").values_list(
        "idempotency_key", flat=True
    )
    assert set(tms.keys()) == set(tms_keys)
    assert min(delivered for _, delivered in tms_slow) >= run.recovered
    if slow > 1.2 * baseline + NOISE_ALLOWANCE:
        raise OthersSlowedDown(
            f"ERP/WMS p95 {slow:.3f} s while the TMS was slow, "
            f"baseline {baseline:.3f} s"
        )
