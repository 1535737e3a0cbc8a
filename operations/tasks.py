"""Celery entry points of the operations monitors."""

from celery import shared_task

from operations import fallback, monitors


@shared_task(name="operations.tasks.monitor_tracking_task")
def monitor_tracking_task() -> int:
    """Open cases for quiet tracking and missing tracking numbers."""
    return (
        monitors.monitor_stale_tracking() + monitors.monitor_missing_tracking_numbers()
    )


@shared_task(name="operations.tasks.fallback_unrated_task")
def fallback_unrated_task() -> int:
    """Release shipments the TMS cannot rate on their lanes' fallback carriers."""
    return fallback.release_unrated_shipments()


@shared_task(name="operations.tasks.monitor_acknowledgements_task")
def monitor_acknowledgements_task() -> int:
    """Mark overdue X12 acknowledgements and open delayed-acknowledgement cases."""
    return monitors.monitor_overdue_acknowledgements()
