"""Drive demo orders through the running stack and check the outcome.

The ERP simulator releases the orders; everything after that happens through
the hub, the worker and the simulators over HTTP. A few orders are held for
credit, a few hit a delivery exception, and a batch is released while the
TMS is down, so retries and recovery are part of every run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings
from django.db.models import Count

from integrations.files import file_drop_folder
from integrations.models import Connection, InboundMessage, OutboxMessage
from operations.demo import demo_order
from operations.models import ExceptionCase
from operations.stack import Stack
from orders.models import Order

HELD_ACCOUNT = "NWND"
FINAL = {"held": Order.Status.ON_HOLD, "normal": Order.Status.INVOICED}


@dataclass
class DemoPlan:
    """Which demo orders get which treatment, decided up front so it can be checked."""

    orders: list[dict] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)
    exceptions: set[str] = field(default_factory=set)
    during_outage: set[str] = field(default_factory=set)


def demo_plan(*, count: int, prefix: str) -> DemoPlan:
    """Return the orders to release: every 10th held, every 8th with an exception."""
    plan = DemoPlan()
    outage = range(count // 3, count // 3 + max(3, count // 6))
    for index in range(count):
        number = f"{prefix}{index + 1:04d}"
        held = index % 10 == 9
        account = HELD_ACCOUNT if held else ("ACME", "ZETA")[index % 2]
        plan.orders.append(
            demo_order(number=number, account_number=account, index=index)
        )
        plan.expected[number] = FINAL["held"] if held else FINAL["normal"]
        if not held and index % 8 == 3:
            plan.exceptions.add(number)
        if index in outage:
            plan.during_outage.add(number)
    return plan


def demo_drive(*, stack: Stack, plan: DemoPlan, x12_dir: Path | None, out) -> None:
    """Release the orders (with a TMS outage midway) and drop the X12 files."""
    for number in sorted(plan.exceptions):
        _control(
            stack, "tms", "scenario", {"order_number": number, "scenario": "exception"}
        )
    before = [o for o in plan.orders if o["order_number"] not in plan.during_outage]
    during = [o for o in plan.orders if o["order_number"] in plan.during_outage]
    split = len(before) // 2
    _control(stack, "erp", "orders", {"orders": before[:split]})

    out.write(f"TMS down while {len(during)} orders are released\n")
    _control(stack, "tms", "config", {"down": True})
    _control(stack, "erp", "orders", {"orders": during})
    time.sleep(8)
    _control(stack, "tms", "config", {"down": False})
    out.write("TMS back up\n")
    _control(stack, "erp", "orders", {"orders": before[split:]})

    if x12_dir is not None:
        dropped = x12_drop(x12_dir)
        out.write(f"dropped {dropped} X12 files from {x12_dir}\n")


def _control(stack: Stack, code: str, verb: str, body: dict) -> dict:
    response = requests.post(
        f"{stack.sim_url(code)}/_control/{verb}", json=body, timeout=10
    )
    response.raise_for_status()
    return response.json()


def x12_drop(folder: Path) -> int:
    """Copy every file of a folder into the X12 file drop; return how many."""
    target = file_drop_folder(Connection.objects.get(code="edi-x12"))
    count = 0
    for path in sorted(folder.iterdir()):
        if path.is_file():
            # Write under a temporary name, then rename: the poller must
            # never read a half-written file.
            partial = target / f".{path.name}.part"
            partial.write_bytes(path.read_bytes())
            partial.rename(target / path.name)
            count += 1
    return count


def default_x12_dir() -> Path:
    """Return the X12 folder the demo drops: the setting, or the project's samples."""
    configured = settings.WAYBILL_DEMO_X12_DIR
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR) / "integrations" / "simulators" / "samples" / "x12"


def wait_until_settled(*, plan: DemoPlan, x12_files: int, timeout: float) -> bool:
    """Wait until every order is final and nothing is left to process or send."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not demo_shortfalls(plan=plan, x12_files=x12_files):
            return True
        time.sleep(2)
    return False


def demo_shortfalls(*, plan: DemoPlan, x12_files: int) -> list[str]:
    """Return every way the run falls short of the plan; empty when it is complete."""
    problems = []
    states = dict(
        Order.objects.filter(number__in=plan.expected).values_list("number", "status")
    )
    for number, expected in sorted(plan.expected.items()):
        actual = states.get(number, "missing")
        if actual != expected:
            problems.append(f"order {number} is {actual}, expected {expected}")
    unfinished = InboundMessage.objects.filter(
        state__in=[InboundMessage.State.RECEIVED, InboundMessage.State.FAILED]
    ).count()
    if unfinished:
        problems.append(f"{unfinished} inbound messages not processed")
    x12_seen = InboundMessage.objects.filter(connection__code="edi-x12").count()
    if x12_seen < x12_files:
        problems.append(f"{x12_seen} of {x12_files} X12 files stored")
    pending = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).count()
    if pending:
        problems.append(f"{pending} outbox messages still pending")
    unexplained = OutboxMessage.objects.filter(
        state=OutboxMessage.State.DEAD, cases__isnull=True
    ).count()
    if unexplained:
        problems.append(f"{unexplained} dead outbox messages without a case")
    return problems


def simulator_shortfalls(stack: Stack, *, since: dt.datetime) -> list[str]:
    """Compare what each simulator accepted in this run with what the hub stored.

    The simulators start empty with every run, so only messages the hub
    received since ``since`` (the run's start) are counted: a demo run again
    on the same database does not count the earlier runs.
    """
    problems = []
    for code in ("erp", "wms", "tms"):
        state = requests.get(f"{stack.sim_url(code)}/_control/state", timeout=10).json()
        accepted = int(state.get("sent_accepted", 0))
        pending = int(state.get("pending", 0))
        stored = InboundMessage.objects.filter(
            connection__code=code, received_at__gte=since
        ).count()
        if pending:
            problems.append(f"{code} simulator still has {pending} webhooks to send")
        if accepted != stored:
            problems.append(
                f"{code} simulator: {accepted} webhooks accepted, hub stored {stored}"
            )
    return problems


def demo_summary(*, plan: DemoPlan, since: dt.datetime) -> str:
    """Return a readable report of this run's orders, messages, files and cases."""
    lines = ["Orders by final status:"]
    orders = Counter(
        Order.objects.filter(number__in=plan.expected).values_list("status", flat=True)
    )
    lines += [f"  {status}: {count}" for status, count in sorted(orders.items())]
    lines.append(
        f"  (with a delivery exception: {len(plan.exceptions)}, "
        f"released during the TMS outage: {len(plan.during_outage)})"
    )
    lines.append("Inbound messages by connection and state:")
    rows = (
        InboundMessage.objects.filter(received_at__gte=since)
        .values("connection__code", "state")
        .annotate(n=Count("id"))
        .order_by("connection__code", "state")
    )
    lines += [f"  {r['connection__code']} {r['state']}: {r['n']}" for r in rows]
    lines.append("Outbox messages by destination and state:")
    rows = (
        OutboxMessage.objects.filter(created_at__gte=since)
        .values("destination__code", "state")
        .annotate(n=Count("id"))
        .order_by("destination__code", "state")
    )
    lines += [f"  {r['destination__code']} {r['state']}: {r['n']}" for r in rows]
    lines.append("X12 files:")
    files = InboundMessage.objects.filter(
        connection__code="edi-x12", received_at__gte=since
    ).order_by("filename")
    for message in files:
        outcome = message.state
        reason = message.error.splitlines()[0] if message.error else ""
        lines.append(
            f"  {message.filename}: {outcome}{' - ' + reason if reason else ''}"
        )
    lines.append("Open exception cases by kind:")
    cases = Counter(
        ExceptionCase.objects.filter(state="open").values_list("kind", flat=True)
    )
    lines += [f"  {kind}: {count}" for kind, count in sorted(cases.items())]
    return "\n".join(lines)
