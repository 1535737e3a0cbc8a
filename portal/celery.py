"""The Celery application: one queue per destination, beat sweepers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("waybill")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sweep = settings.WAYBILL_SWEEP_SECONDS
    sender.add_periodic_task(
        sweep,
        sender.signature("integrations.tasks.outbox_sweep_task"),
        name="outbox sweep",
    )
    sender.add_periodic_task(
        sweep,
        sender.signature("integrations.tasks.inbound_sweep_task"),
        name="inbound sweep",
    )
    sender.add_periodic_task(
        settings.WAYBILL_FILE_POLL_SECONDS,
        sender.signature("integrations.tasks.file_drop_poll_task"),
        name="file-drop poll",
    )
    sender.add_periodic_task(
        settings.WAYBILL_MONITOR_SECONDS,
        sender.signature("operations.tasks.monitor_tracking_task"),
        name="tracking monitors",
    )
    # Acknowledgement windows are minutes long, so this runs at least
    # every minute; the query reads one index.
    sender.add_periodic_task(
        min(settings.WAYBILL_MONITOR_SECONDS, 60.0),
        sender.signature("operations.tasks.monitor_acknowledgements_task"),
        name="acknowledgement monitor",
    )
    sender.add_periodic_task(
        settings.WAYBILL_FALLBACK_SECONDS,
        sender.signature("operations.tasks.fallback_unrated_task"),
        name="TMS rating fallback",
    )
