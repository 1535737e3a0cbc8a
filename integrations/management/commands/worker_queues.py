"""Print the queues a Celery worker must consume to serve every connection."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.queues import worker_queues


class Command(BaseCommand):
    help = (
        "Print the comma-separated queue list for `celery -A portal worker -Q`: "
        "the hub's own queues and every connection's outbound queue. Restart "
        "workers with it after adding a connection or changing its queue."
    )

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(worker_queues())
