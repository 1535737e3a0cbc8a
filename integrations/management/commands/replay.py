"""Replay inbound or outbound messages after the cause was fixed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.mappings import inbound_blocked_by
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
        parser.add_argument(
            "--blocked-by",
            help="Inbound only: every message in needs_attention that this key "
            "blocked, e.g. mapping:carrier-crx:shipment_status:DLV2 (a '*' "
            "source matches every connection).",
        )

    def handle(self, *args: object, **options: object) -> None:
        direction = options["direction"]
        ids = self._select(direction, options)
        # A key that blocks nothing (any more) is an answer, not a mistake.
        if not ids and not options["blocked_by"]:
            raise CommandError("no messages selected: give ids or --state")
        if direction == "inbound":
            count = inbound_message_replay(message_ids=ids)
        else:
            count = outbox_message_replay(message_ids=ids)
        self.stdout.write(f"replayed {count} {direction} message(s)")

    def _select(self, direction: str, options: dict) -> list[int]:
        if options["ids"]:
            return list(options["ids"])
        if options["blocked_by"]:
            if direction != "inbound":
                raise CommandError("--blocked-by selects inbound messages only")
            rows = inbound_blocked_by(key=options["blocked_by"])
            return list(rows.values_list("pk", flat=True))
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
