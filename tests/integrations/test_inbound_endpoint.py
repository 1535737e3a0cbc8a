"""The inbound endpoint: signatures, size, content type, repeats."""

from __future__ import annotations

import time

import pytest

from integrations.models import Connection, InboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp(seeded) -> Connection:
    return Connection.objects.get(code="erp")


def test_first_delivery_is_accepted_with_its_message_id(erp, post_signed):
    response = post_signed(erp, {"hello": "world"}, message_id="m-1")

    message = InboundMessage.objects.get()
    assert response.status_code == 202
    assert response.json() == {"message_id": message.pk, "duplicate": False}
    assert bytes(message.body) == b'{"hello": "world"}'
    assert message.state == "received"


def test_repeated_delivery_answers_200_with_the_first_id_and_stores_nothing(
    erp, post_signed
):
    first = post_signed(erp, {"n": 1}, message_id="m-1")
    again = post_signed(erp, {"n": 1}, message_id="m-1")
    same_body_new_id = post_signed(erp, {"n": 1}, message_id="m-2")

    assert first.status_code == 202
    assert again.status_code == 200
    assert same_body_new_id.status_code == 200
    assert again.json()["message_id"] == first.json()["message_id"]
    assert same_body_new_id.json()["message_id"] == first.json()["message_id"]
    assert InboundMessage.objects.count() == 1


def test_wrong_secret_is_refused_with_401(erp, post_signed):
    response = post_signed(erp, {"n": 1}, secret="not-the-secret")

    assert response.status_code == 401
    assert response.json()["detail"] == "no signature matches"
    assert InboundMessage.objects.count() == 0


def test_timestamp_older_than_five_minutes_is_refused(erp, post_signed):
    response = post_signed(erp, {"n": 1}, timestamp=time.time() - 301)

    assert response.status_code == 401
    assert (
        response.json()["detail"] == "webhook-timestamp is outside the accepted window"
    )


def test_signature_is_checked_over_the_raw_bytes(erp, post_signed):
    raw = '{"city":"Zürich","note":"dock\\u2028B","weight_kg":1.0}'.encode()

    response = post_signed(erp, raw)

    assert response.status_code == 202
    assert bytes(InboundMessage.objects.get().body) == raw


def test_body_over_the_limit_is_refused_with_413_and_not_stored(
    erp, post_signed, settings
):
    settings.WAYBILL_INBOUND_MAX_BYTES = 100

    response = post_signed(erp, b'{"pad":"' + b"x" * 200 + b'"}')

    assert response.status_code == 413
    assert response.json()["detail"] == "the body limit is 100 bytes"
    assert InboundMessage.objects.count() == 0


def test_non_json_content_type_is_refused_with_415(erp, client):
    response = client.post(
        "/integrations/inbound/erp/", data="x", content_type="text/plain"
    )

    assert response.status_code == 415


def test_unknown_connection_answers_404(seeded, client):
    response = client.post(
        "/integrations/inbound/nope/", data="{}", content_type="application/json"
    )

    assert response.status_code == 404


def test_full_backlog_answers_429_with_retry_after_and_stores_nothing(
    erp, post_signed, settings
):
    settings.WAYBILL_INBOUND_BACKLOG_LIMIT = 2
    accepted = [post_signed(erp, {"n": n}).status_code for n in range(3)]

    refused = post_signed(erp, {"n": 3})

    assert accepted == [202, 202, 202]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "5"
    assert refused.json()["detail"] == "the processing backlog is full"
    assert InboundMessage.objects.count() == 3


def test_body_without_content_length_is_refused_with_411_not_read_as_empty(erp, client):
    # A chunked upload reaches Django without CONTENT_LENGTH.
    response = client.post(
        "/integrations/inbound/erp/",
        data=b'{"n": 1}',
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )

    assert response.status_code == 411
    assert response.json()["detail"] == "send the body with a Content-Length"
    assert InboundMessage.objects.count() == 0


def test_message_id_over_200_characters_is_refused_not_truncated(erp, post_signed):
    shared_prefix = "m" * 200

    response = post_signed(erp, {"n": 1}, message_id=shared_prefix + "-2")

    assert response.status_code == 400
    assert response.json()["detail"] == "webhook-id is over 200 characters"
    assert InboundMessage.objects.count() == 0
