"""POST /api/v1/replays/: replay by ids, state or blocking key, with a scoped token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from integrations.models import Connection, InboundMessage, OutboxMessage

pytestmark = pytest.mark.django_db

URL = "/api/v1/replays/"


def _client(scope: str, *, staff: bool = True) -> APIClient:
    owner = get_user_model().objects.create_user(
        username=f"owner-{scope}-{staff}", is_staff=staff
    )
    application = Application.objects.create(
        name="ops tooling",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    token = AccessToken.objects.create(
        application=application,
        token=f"tok-{scope}-{application.pk}",
        scope=scope,
        expires=timezone.now() + dt.timedelta(minutes=15),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


def _inbound(code: str, message_id: str, state: str, blocked_by: str = ""):
    return InboundMessage.objects.create(
        connection=Connection.objects.get(code=code),
        message_id=message_id,
        body=message_id.encode(),
        sha256=message_id.ljust(64, "0"),
        content_type="application/json",
        state=state,
        blocked_by=blocked_by,
    )


def _dead_outbox(key: str) -> OutboxMessage:
    return OutboxMessage.objects.create(
        destination=Connection.objects.get(code="erp"),
        type="shipment.confirmed",
        subject="SH-1",
        payload={"n": 1},
        idempotency_key=key,
        state="dead",
        attempts=8,
        next_attempt_at=timezone.now(),
    )


def test_without_a_token_the_answer_is_401(seeded):
    response = APIClient().post(
        URL, {"direction": "inbound", "ids": [1]}, format="json"
    )

    assert response.status_code == 401


def test_a_token_without_the_replay_scope_is_refused_with_403(seeded):
    response = _client("orders:read").post(
        URL, {"direction": "inbound", "ids": [1]}, format="json"
    )

    assert response.status_code == 403


def test_replay_by_ids_sends_dead_messages_again_with_the_same_key(seeded):
    message = _dead_outbox("shipment.confirmed:SH-1")

    response = _client("integrations:replay").post(
        URL, {"direction": "outbound", "ids": [message.pk]}, format="json"
    )

    message.refresh_from_db()
    assert response.status_code == 202
    assert response.json() == {"direction": "outbound", "selected": 1, "replayed": 1}
    assert (message.state, message.attempts) == ("pending", 0)
    assert message.idempotency_key == "shipment.confirmed:SH-1"


def test_replay_by_state_and_connection_takes_only_those(seeded):
    stuck = _inbound("tms", "m-1", "needs_attention")
    _inbound("wms", "m-2", "needs_attention")
    _inbound("tms", "m-3", "processed")

    response = _client("integrations:replay").post(
        URL,
        {"direction": "inbound", "state": "needs_attention", "connection": "tms"},
        format="json",
    )

    assert response.json() == {"direction": "inbound", "selected": 1, "replayed": 1}
    assert InboundMessage.objects.get(pk=stuck.pk).state == "received"
    assert InboundMessage.objects.get(message_id="m-2").state == "needs_attention"


def test_replay_by_blocking_key_takes_what_that_mapping_blocked(seeded):
    key = "mapping:carrier-crx:shipment_status:ZZ9"
    blocked = _inbound("carrier-crx", "m-4", "needs_attention", blocked_by=key)
    _inbound("carrier-crx", "m-5", "needs_attention", blocked_by=key + "X")

    response = _client("integrations:replay").post(
        URL, {"direction": "inbound", "blocked_by": key}, format="json"
    )

    assert response.json()["replayed"] == 1
    assert InboundMessage.objects.get(pk=blocked.pk).state == "received"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"direction": "sideways"}, "direction", '"sideways" is not a valid choice.'),
        (
            {"direction": "inbound", "ids": ["x"]},
            "ids",
            None,
        ),
    ],
)
def test_a_malformed_request_is_a_400_naming_the_field(seeded, body, field, message):
    response = _client("integrations:replay").post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    if message:
        assert response.json()[field] == [message]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"direction": "inbound"}, "give ids, a state or a blocking key"),
        (
            {"direction": "outbound", "blocked_by": "mapping:x:y:z"},
            "blocked_by selects inbound messages only",
        ),
        (
            {"direction": "inbound", "state": "processed"},
            "inbound messages are replayed from needs_attention or failed, "
            "not processed",
        ),
        (
            {"direction": "inbound", "state": "needs_attention", "connection": "nope"},
            "no connection named 'nope'",
        ),
        (
            {"direction": "inbound", "ids": [1], "state": "failed"},
            "give ids, a state or a blocking key, not several",
        ),
        (
            {"direction": "inbound", "connection": "tms"},
            "a connection narrows a state; give the state too",
        ),
    ],
)
def test_a_selection_that_cannot_be_made_is_a_400_with_the_reason(seeded, body, detail):
    response = _client("integrations:replay").post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_an_application_not_owned_by_staff_is_refused_with_403(seeded):
    response = _client("integrations:replay", staff=False).post(
        URL, {"direction": "inbound", "ids": [1]}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "replays are for staff applications only"}


def test_ids_that_do_not_exist_are_not_counted(seeded):
    message = _dead_outbox("shipment.confirmed:SH-9")

    response = _client("integrations:replay").post(
        URL, {"direction": "outbound", "ids": [message.pk, 999999]}, format="json"
    )

    assert response.json() == {"direction": "outbound", "selected": 1, "replayed": 1}


def test_an_id_beyond_the_database_range_is_a_400_not_a_500(seeded):
    response = _client("integrations:replay").post(
        URL, {"direction": "inbound", "ids": [2**63]}, format="json"
    )

    assert response.status_code == 400
    assert "ids" in response.json()
