"""The demo's report counts only the run it describes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import Connection, InboundMessage
from operations.demo_drive import DemoPlan, demo_summary

pytestmark = pytest.mark.django_db


def _message(code: str, message_id: str, *, received_at: dt.datetime) -> None:
    message = InboundMessage.objects.create(
        connection=Connection.objects.get(code=code),
        message_id=message_id,
        body=message_id.encode(),
        sha256=message_id.ljust(64, "0"),
        content_type="application/json",
        state="processed",
    )
    InboundMessage.objects.filter(pk=message.pk).update(received_at=received_at)


def test_messages_of_an_earlier_run_are_left_out(seeded):
    run_started = timezone.now()
    _message("erp", "earlier-1", received_at=run_started - dt.timedelta(hours=1))
    _message("erp", "earlier-2", received_at=run_started - dt.timedelta(hours=1))
    _message("erp", "this-run", received_at=run_started + dt.timedelta(seconds=5))

    summary = demo_summary(plan=DemoPlan(), since=run_started)

    assert "  erp processed: 1" in summary.splitlines()
