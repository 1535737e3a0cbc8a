"""Choose messages to replay, the same way for admin, command and API.

A selection is explicit ids, every message in a state (optionally of one
connection), or - inbound only - every message a blocking key held in
``needs_attention`` (``mapping:<source>:<category>:<code>``). Replaying an
inbound message processes it again; replaying an outbound one sends it again
with its original idempotency key, so receivers can tell it is a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.mappings import inbound_blocked_by
from integrations.models import Connection, InboundMessage, OutboxMessage
from integrations.outbox import outbox_message_replay
from integrations.services import inbound_message_replay

INBOUND = "inbound"
OUTBOUND = "outbound"
# States a replay makes sense from, by direction.
REPLAYABLE_STATES = {
    INBOUND: (InboundMessage.State.NEEDS_ATTENTION, InboundMessage.State.FAILED),
    OUTBOUND: (OutboxMessage.State.DEAD, OutboxMessage.State.PENDING),
}


class ReplaySelectionError(ValueError):
    """A selection that cannot be made, with a reason fit for the caller."""


@dataclass(frozen=True)
class ReplaySelection:
    direction: str
    ids: tuple[int, ...] = ()
    state: str = ""
    connection: str = ""
    blocked_by: str = ""


def replay_select(selection: ReplaySelection) -> list[int]:
    """Return the ids of the messages a selection names, in id order."""
    if selection.direction not in REPLAYABLE_STATES:
        raise ReplaySelectionError(f"direction must be {INBOUND} or {OUTBOUND}")
    ways = [bool(selection.ids), bool(selection.state), bool(selection.blocked_by)]
    if sum(ways) > 1:
        raise ReplaySelectionError("give ids, a state or a blocking key, not several")
    if selection.connection and not selection.state:
        raise ReplaySelectionError("a connection narrows a state; give the state too")
    if selection.ids:
        # Only ids that exist count as selected.
        model = InboundMessage if selection.direction == INBOUND else OutboxMessage
        return sorted(
            model.objects.filter(pk__in=set(selection.ids)).values_list("pk", flat=True)
        )
    if (
        selection.connection
        and not Connection.objects.filter(code=selection.connection).exists()
    ):
        raise ReplaySelectionError(f"no connection named {selection.connection!r}")
    if selection.blocked_by:
        if selection.direction != INBOUND:
            raise ReplaySelectionError("blocked_by selects inbound messages only")
        return sorted(
            inbound_blocked_by(key=selection.blocked_by).values_list("pk", flat=True)
        )
    if not selection.state:
        raise ReplaySelectionError("give ids, a state or a blocking key")
    allowed = REPLAYABLE_STATES[selection.direction]
    if selection.state not in allowed:
        raise ReplaySelectionError(
            f"{selection.direction} messages are replayed from "
            + " or ".join(allowed)
            + f", not {selection.state}"
        )
    if selection.direction == INBOUND:
        rows = InboundMessage.objects.filter(state=selection.state)
        if selection.connection:
            rows = rows.filter(connection__code=selection.connection)
    else:
        rows = OutboxMessage.objects.filter(state=selection.state)
        if selection.connection:
            rows = rows.filter(destination__code=selection.connection)
    return sorted(rows.values_list("pk", flat=True))


def replay_run(*, direction: str, ids: list[int]) -> int:
    """Replay the messages with these ids; return how many were replayed."""
    if direction == INBOUND:
        return inbound_message_replay(message_ids=ids)
    return outbox_message_replay(message_ids=ids)
