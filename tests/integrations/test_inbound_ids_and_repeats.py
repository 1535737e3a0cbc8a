"""Message ids a sender may use, and one stored copy of a body under concurrency."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid

import pytest
from django.db import connection as db_connection
from django.db import connections
from django.test import Client

from integrations import signing
from integrations.models import Connection, InboundMessage
from integrations.services import inbound_batch_accept, inbound_message_accept

THREADS = 16


def _post(
    connection: Connection,
    raw: bytes,
    *,
    path: str = "",
    message_id: str | None = None,
    content_type: str = "application/json",
):
    headers = signing.signed_headers(
        connection.inbound_secret,
        message_id if message_id is not None else str(uuid.uuid4()),
        raw,
        now=time.time(),
    )
    return Client().post(
        f"/integrations/inbound/{connection.code}/{path}",
        data=raw,
        content_type=content_type,
        headers=headers,
    )


def _tms() -> Connection:
    return Connection.objects.create(
        code="tms",
        name="Transport system",
        kind=Connection.Kind.TMS,
        inbound_secret="tms-inbound-secret",
    )


@pytest.fixture
def tms(db) -> Connection:
    return _tms()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("item_id", "detail"),
    [
        ("a\u0000b", "item 0 id holds the control character U+0000"),
        ("line\nbreak", "item 0 id holds the control character U+000A"),
        ("del\u007f", "item 0 id holds the control character U+007F"),
        (True, "item 0 has no id"),
        ({"n": 1}, "item 0 has no id"),
        (["x"], "item 0 has no id"),
        (None, "item 0 has no id"),
        ("  ", "item 0 has no id"),
    ],
)
def test_bulk_item_with_an_unusable_id_is_refused_with_a_reason(tms, item_id, detail):
    raw = json.dumps([{"id": item_id, "type": "shipment.milestone"}]).encode()

    response = _post(tms, raw, path="bulk/")

    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert InboundMessage.objects.count() == 0


@pytest.mark.django_db
def test_ndjson_item_id_with_a_lone_surrogate_is_refused(tms):
    # NDJSON items are stored as sent, so only the id check stands between
    # an escaped surrogate and a failed insert.
    raw = b'{"id": "\\ud800", "type": "shipment.milestone"}\n'

    response = _post(tms, raw, path="bulk/", content_type="application/x-ndjson")

    assert response.status_code == 400
    assert response.json()["detail"] == "item 0 id holds the lone surrogate U+D800"
    assert InboundMessage.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("item_id", "stored_as"), [(0, "0"), (17, "17"), ("e-1", "e-1")]
)
def test_bulk_item_id_may_be_any_number_or_text_zero_included(tms, item_id, stored_as):
    raw = json.dumps([{"id": item_id, "type": "shipment.milestone"}]).encode()

    response = _post(tms, raw, path="bulk/")

    assert response.status_code == 202
    assert response.json()["results"][0]["id"] == stored_as
    assert InboundMessage.objects.get().message_id == stored_as


@pytest.mark.django_db
def test_webhook_id_with_a_nul_is_refused_not_answered_as_an_outage(tms):
    response = _post(tms, b'{"id": "e1"}', message_id="msg\u00001")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "webhook-id holds the control character U+0000"
    )
    assert InboundMessage.objects.count() == 0


@pytest.mark.django_db
def test_repeated_body_costs_two_queries_after_the_lock(tms, django_assert_num_queries):
    body = b'{"id": "same"}'
    first, _ = inbound_message_accept(
        connection=tms, message_id="m-1", body=body, content_type="application/json"
    )

    # Savepoint, advisory lock, lookup, release.
    with django_assert_num_queries(4):
        again, created = inbound_message_accept(
            connection=tms,
            message_id="m-2",
            body=body,
            content_type="application/json",
        )

    assert (again.pk, created) == (first.pk, False)


@pytest.mark.django_db
def test_batch_locks_all_its_bodies_in_one_statement(tms, django_assert_num_queries):
    items = [(f"e{n}", json.dumps({"id": f"e{n}"}).encode()) for n in range(50)]

    # Savepoint, advisory locks, lookup, insert, read back, release.
    with django_assert_num_queries(6):
        results = inbound_batch_accept(connection=tms, items=items)

    assert [result["status"] for result in results] == ["accepted"] * 50


def _race(connection: Connection, body: bytes) -> list[tuple[int, bool]]:
    """Accept one body from THREADS threads at once, half single, half batch."""
    start = threading.Barrier(THREADS)
    answers: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def deliver(n: int) -> None:
        try:
            start.wait()
            if n % 2:
                message, created = inbound_message_accept(
                    connection=connection,
                    message_id=f"single-{n}",
                    body=body,
                    content_type="application/json",
                )
                answer = (message.pk, created)
            else:
                [result] = inbound_batch_accept(
                    connection=connection, items=[(f"batch-{n}", body)]
                )
                answer = (result["message_id"], result["status"] == "accepted")
            with lock:
                answers.append(answer)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_one_body_store_it_once():
    if db_connection.vendor != "postgresql":
        pytest.skip("the race needs concurrent writers (PostgreSQL)")
    tms = _tms()
    body = json.dumps({"id": "e-race", "type": "shipment.milestone"}).encode()

    answers = _race(tms, body)

    stored = InboundMessage.objects.get(
        connection=tms, sha256=hashlib.sha256(body).hexdigest()
    )
    assert len(answers) == THREADS
    assert sorted(created for _, created in answers) == [False] * 15 + [True]
    assert {pk for pk, _ in answers} == {stored.pk}
