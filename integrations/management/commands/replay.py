"""Replay inbound or outbound messages after the cause was fixed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.models import InboundMessage, OutboxMessage
from integrations.outbox import outbox_message_replay
from integrations.services import inbound_message_replay


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

    def handle(self, *args: object, **options: object) -> None:
        direction = options["direction"]
        ids = self._select(direction, options)
        if not ids:
            raise CommandError("no messages selected: give ids or --state")
        if direction == "inbound":
            count = inbound_message_replay(message_ids=ids)
        else:
            count = outbox_message_replay(message_ids=ids)
        self.stdout.write(f"replayed {count} {direction} message(s)")

    def _select(self, direction: str, options: dict) -> list[int]:
        if options["ids"]:
            return list(options["ids"])
        if not options["state"]:
            return []
        if direction == "inbound":
            rows = InboundMessage.objects.filter(state=options["state"])
            if options["connection"]:
                rows = rows.filter(connection__code=options["connection"])
        else:
            rows = OutboxMessage.objects.filter(state=options["state"])
            if options["connection"]:
                rows = rows.filter(destination__code=options["connection"])
        return list(rows.values_list("pk", flat=True))
