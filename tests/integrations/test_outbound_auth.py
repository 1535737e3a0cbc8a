"""Outbound authentication per connection, against real loopback endpoints."""

from __future__ import annotations

import base64
import logging
from urllib.parse import parse_qs

import pytest
from django.core.cache import cache
from django.db import transaction

from integrations import signing
from integrations.models import Connection, OutboxMessage
from integrations.outbox import outbox_dispatch, outbox_enqueue
from tests.integrations.endpoints import Answer, ScriptedReceiver, TokenEndpoint

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-Vq7-outbound"


@pytest.fixture(autouse=True)
def empty_token_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def receiver():
    running = ScriptedReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def token_endpoint():
    running = TokenEndpoint("hub-client", SECRET).start()
    yield running
    running.stop()


def _partner(url: str, **fields) -> Connection:
    return Connection.objects.create(
        code="partner",
        name="Partner",
        kind="partner",
        base_url=url,
        outbound_secret=SECRET,
        max_attempts=3,
        **fields,
    )


def _send(key: str = "k-1") -> OutboxMessage:
    with transaction.atomic():
        message = outbox_enqueue(
            destination_code="partner",
            type="shipment.status_changed",
            subject="SH-1",
            payload={"shipment_number": "SH-1"},
            idempotency_key=key,
        )
    outbox_dispatch(message_id=message.pk)
    message.refresh_from_db()
    return message


def _auth_headers(headers: dict[str, str]) -> dict[str, str]:
    names = {"x-api-key", "x-partner-key", "authorization", *signing_headers()}
    return {k.lower(): v for k, v in headers.items() if k.lower() in names}


def signing_headers() -> set[str]:
    return {signing.ID_HEADER, signing.TIMESTAMP_HEADER, signing.SIGNATURE_HEADER}


def test_no_auth_sends_no_credentials(receiver):
    _partner(receiver.url, outbound_auth="none")

    message = _send()

    assert message.state == "delivered"
    assert _auth_headers(receiver.seen[0].headers) == {}


def test_api_key_goes_in_the_configured_header_only(receiver):
    _partner(receiver.url, outbound_auth="api_key", api_key_header="X-Partner-Key")

    message = _send()

    assert message.state == "delivered"
    assert _auth_headers(receiver.seen[0].headers) == {"x-partner-key": SECRET}


def test_hmac_signs_the_exact_bytes_with_the_outbound_secret(receiver):
    _partner(receiver.url, outbound_auth="hmac")

    message = _send(key="k-hmac")

    request = receiver.seen[0]
    assert message.state == "delivered"
    assert request.headers["webhook-id"] == "k-hmac"
    assert "authorization" not in {name.lower() for name in request.headers}
    signing.verify(
        [SECRET],
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.headers["webhook-signature"],
        request.body,
    )


def test_oauth2_fetches_one_token_and_reuses_it_until_expiry(token_endpoint):
    receiver = ScriptedReceiver(bearer={"token-1"}).start()
    try:
        _partner(
            receiver.url,
            outbound_auth="oauth2",
            oauth_token_url=token_endpoint.url + "/o/token/",
            oauth_client_id="hub-client",
            oauth_scope="events:write",
        )

        first = _send(key="k-1")
        second = _send(key="k-2")
    finally:
        receiver.stop()

    grant = token_endpoint.seen[0]
    expected_basic = base64.b64encode(f"hub-client:{SECRET}".encode()).decode()
    assert (first.state, second.state) == ("delivered", "delivered")
    assert len(token_endpoint.seen) == 1
    assert grant.path == "/o/token/"
    assert grant.headers["Authorization"] == f"Basic {expected_basic}"
    assert parse_qs(grant.body.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["events:write"],
    }
    assert [r.headers["Authorization"] for r in receiver.seen] == [
        "Bearer token-1",
        "Bearer token-1",
    ]


@pytest.mark.parametrize(
    ("expires_in", "cached_for"), [(900, 840.0), (60, 30.0), (1, 0.5)]
)
def test_oauth2_token_is_cached_until_shortly_before_it_expires(
    monkeypatch, receiver, expires_in, cached_for
):
    from integrations import outbound_auth

    timeouts = []
    real_set = outbound_auth.cache.set

    def recording_set(key, value, timeout):
        timeouts.append(timeout)
        real_set(key, value, timeout)

    monkeypatch.setattr(outbound_auth.cache, "set", recording_set)
    endpoint = TokenEndpoint("hub-client", SECRET, expires_in=expires_in).start()
    try:
        _partner(
            receiver.url,
            outbound_auth="oauth2",
            oauth_token_url=endpoint.url,
            oauth_client_id="hub-client",
        )
        _send()
    finally:
        endpoint.stop()

    assert timeouts == [cached_for]


def test_oauth2_token_without_a_lifetime_is_fetched_for_every_send(receiver):
    endpoint = TokenEndpoint("hub-client", SECRET, expires_in=0).start()
    try:
        _partner(
            receiver.url,
            outbound_auth="oauth2",
            oauth_token_url=endpoint.url,
            oauth_client_id="hub-client",
        )
        _send(key="k-1")
        _send(key="k-2")
    finally:
        endpoint.stop()

    assert endpoint.issued == ["token-1", "token-2"]
    assert [r.headers["Authorization"] for r in receiver.seen] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_oauth2_refreshes_the_token_once_on_401(token_endpoint):
    # The receiver accepts only the second token: the cached first one was
    # revoked on its side.
    receiver = ScriptedReceiver(bearer={"token-2"}).start()
    try:
        _partner(
            receiver.url,
            outbound_auth="oauth2",
            oauth_token_url=token_endpoint.url,
            oauth_client_id="hub-client",
        )
        message = _send()
    finally:
        receiver.stop()

    assert message.state == "delivered"
    assert message.attempts == 1
    assert token_endpoint.issued == ["token-1", "token-2"]
    assert [r.headers["Authorization"] for r in receiver.seen] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_oauth2_a_second_401_is_final_after_one_refresh(token_endpoint):
    receiver = ScriptedReceiver(bearer=set()).start()
    try:
        _partner(
            receiver.url,
            outbound_auth="oauth2",
            oauth_token_url=token_endpoint.url,
            oauth_client_id="hub-client",
        )
        message = _send()
    finally:
        receiver.stop()

    assert len(receiver.seen) == 2
    assert (message.state, message.response_status) == ("dead", 401)


def test_refused_client_credentials_retry_with_a_reason_that_hides_the_secret(
    receiver, caplog
):
    endpoint = TokenEndpoint("hub-client", "another-secret").start()
    try:
        _partner(
            receiver.url,
            outbound_auth="oauth2",
            oauth_token_url=endpoint.url,
            oauth_client_id="hub-client",
        )
        with caplog.at_level(logging.DEBUG):
            message = _send()
    finally:
        endpoint.stop()

    assert receiver.seen == []
    assert (message.state, message.attempts) == ("pending", 1)
    assert message.last_error == "OAuth2 token endpoint answered HTTP 401"
    assert SECRET not in caplog.text
    assert SECRET not in str(message.errors)


def test_token_endpoint_down_is_a_transport_failure(receiver):
    endpoint = TokenEndpoint("hub-client", SECRET).start()
    url = endpoint.url
    endpoint.stop()
    _partner(
        receiver.url,
        outbound_auth="oauth2",
        oauth_token_url=url,
        oauth_client_id="hub-client",
    )

    message = _send()

    assert (message.state, message.response_status) == ("pending", None)
    assert message.last_error == "OAuth2 token request failed: ConnectionError"


def test_scripted_answers_are_served_in_turn():
    receiver = ScriptedReceiver(Answer(503)).start()
    try:
        _partner(receiver.url, outbound_auth="none")
        message = _send()
    finally:
        receiver.stop()

    assert (message.state, message.response_status) == ("pending", 503)
