"""Add the default code mappings a database lacks, leaving edited rows alone."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.seeding import mappings_seed


class Command(BaseCommand):
    help = (
        "Insert the default code mappings (carrier, X12, EDIFACT, TMS status and "
        "reason codes) that are missing. Rows that exist, edited in the admin or "
        "not, are never changed. Run after migrate on every deploy."
    )

    def handle(self, *args: object, **options: object) -> None:
        added = mappings_seed()
        self.stdout.write(f"{added} default code mapping(s) added")
