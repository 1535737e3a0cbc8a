"""Print the queues Celery workers must consume to serve every connection."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from integrations.queues import worker_queues
from operations.stack import worker_layout


class Command(BaseCommand):
    help = (
        "Print the comma-separated queue list for `celery -A portal worker -Q`: "
        "the hub's own queues and every connection's outbound queue. With "
        "--layout, print the workers to run instead, one a line: name, queues "
        "and pool size, so each destination's queue has a worker of its own "
        "(a bulkhead). Restart workers with it after adding a connection or "
        "changing its queue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--layout",
            action="store_true",
            help="print one line per worker: <name> <queue,queue> <concurrency>",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not options["layout"]:
            self.stdout.write(worker_queues())
            return

        for spec in worker_layout():
            queues = ",".join(spec.queues)
            self.stdout.write(f"{spec.name} {queues} {spec.concurrency}")
