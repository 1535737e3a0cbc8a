"""The replay management command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from integrations.models import Connection, InboundMessage, OutboxMessage
from tests.integrations.helpers import deliver

pytestmark = pytest.mark.django_db


def test_replay_by_state_resets_every_needs_attention_message(seeded, capsys):
    first = deliver("erp", b"not json", message_id="a")
    second = deliver("erp", b"[1]", message_id="b")

    call_command("replay", "inbound", "--state", "needs_attention")

    assert capsys.readouterr().out == "replayed 2 inbound message(s)\n"
    assert set(InboundMessage.objects.values_list("pk", "state")) == {
        (first.pk, "received"),
        (second.pk, "received"),
    }


def test_replay_by_id_makes_a_dead_outbound_message_pending_with_fresh_attempts(
    seeded, capsys
):
    message = OutboxMessage.objects.create(
        destination=Connection.objects.get(code="erp"),
        type="order.held",
        subject="SO-1",
        payload={},
        idempotency_key="k",
        state="dead",
        attempts=8,
        next_attempt_at="2025-01-01T00:00:00Z",
    )

    call_command("replay", "outbound", str(message.pk))

    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 0)
    assert capsys.readouterr().out == "replayed 1 outbound message(s)\n"


def test_replay_without_a_selection_is_an_error(seeded):
    with pytest.raises(
        CommandError, match="no messages selected: give ids, a state or a blocking key"
    ):
        call_command("replay", "inbound")


def test_replay_from_a_state_that_cannot_be_replayed_is_an_error(seeded):
    with pytest.raises(
        CommandError,
        match="outbound messages are replayed from dead or pending, not delivered",
    ):
        call_command("replay", "outbound", "--state", "delivered")


def test_inbound_sweeper_requeues_a_lost_message_once_per_period(seeded, settings):
    import datetime as dt

    from django.utils import timezone

    from integrations.services import inbound_claim_due, inbound_message_accept

    message, _ = inbound_message_accept(
        connection=Connection.objects.get(code="erp"),
        message_id="lost",
        body=b"{}",
        content_type="application/json",
    )
    assert inbound_claim_due() == []  # its task was just queued

    stale = timezone.now() - dt.timedelta(
        seconds=settings.WAYBILL_REQUEUE_AFTER_SECONDS + 1
    )
    InboundMessage.objects.filter(pk=message.pk).update(queued_at=stale)
    assert inbound_claim_due() == [message.pk]
    assert inbound_claim_due() == []
