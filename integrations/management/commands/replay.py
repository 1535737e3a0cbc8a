"""Replay inbound or outbound messages after the cause was fixed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.replay import (
    ReplaySelection,
    ReplaySelectionError,
    replay_run,
    replay_select,
)


class Command(BaseCommand):
    help = (
        "Replay messages: inbound ones are processed again, outbound ones are sent "
        "again with their original idempotency key. Select by id or by state."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("direction", choices=["inbound", "outbound"])
        parser.add_argument("ids", nargs="*", type=int, help="Message ids.")
        parser.add_argument(
            "--state",
            help="Every message in this state instead of ids "
            "(inbound: needs_attention, failed; outbound: dead, pending).",
        )
        parser.add_argument(
            "--connection", help="Limit --state to one connection code."
        )
        parser.add_argument(
            "--blocked-by",
            help="Inbound only: every message in needs_attention that this key "
            "blocked, e.g. mapping:carrier-crx:shipment_status:DLV2 (a '*' "
            "source matches every connection).",
        )

    def handle(self, *args: object, **options: object) -> None:
        direction = options["direction"]
        selection = ReplaySelection(
            direction=direction,
            ids=tuple(options["ids"]),
            state=options["state"] or "",
            connection=options["connection"] or "",
            blocked_by=options["blocked_by"] or "",
        )
        try:
            ids = replay_select(selection)
        except ReplaySelectionError as exc:
            raise CommandError(f"no messages selected: {exc}") from exc
        # A state or key that selects nothing (any more) is an answer, not a
        # mistake.
        count = replay_run(direction=direction, ids=ids) if ids else 0
        self.stdout.write(f"replayed {count} {direction} message(s)")
