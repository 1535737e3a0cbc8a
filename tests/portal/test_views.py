"""The portal: scoping, pages, downloads, returns."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import OutboxMessage
from orders.models import ReturnRequest
from shipments.models import Shipment
from tests.portal.conftest import make_world

pytestmark = pytest.mark.django_db


def owned_urls(world) -> list[str]:
    return [
        f"/orders/{world.order.number}/",
        f"/shipments/{world.shipment.number}/",
        f"/documents/{world.document.pk}/download/",
        f"/returns/{world.return_request.number}/",
        f"/returns/new/?order={world.order.number}",
    ]


def test_another_accounts_objects_answer_404(worlds, bob):
    acme, _ = worlds

    statuses = {url: bob.get(url).status_code for url in owned_urls(acme)}

    assert set(statuses.values()) == {404}


def test_owner_opens_every_page_of_their_objects(worlds, alice):
    acme, _ = worlds

    statuses = {url: alice.get(url).status_code for url in owned_urls(acme)}

    assert set(statuses.values()) == {200}


def without_csrf_token(content: bytes) -> bytes:
    """Drop the per-response CSRF token, which is masked differently each time."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def test_document_ids_of_others_look_exactly_like_missing_ids(worlds, bob):
    acme, zeta = worlds
    ids = range(acme.document.pk - 5, acme.document.pk + 10)

    bodies = {
        pk: bob.get(f"/documents/{pk}/download/")
        for pk in ids
        if pk != zeta.document.pk
    }

    assert {response.status_code for response in bodies.values()} == {404}
    assert (
        len({without_csrf_token(response.content) for response in bodies.values()}) == 1
    )
    assert acme.document.filename.encode() not in bodies[acme.document.pk].content
    assert acme.document.sha256.encode() not in bodies[acme.document.pk].content


def test_owner_downloads_the_document_as_an_attachment(worlds, alice):
    acme, _ = worlds

    response = alice.get(f"/documents/{acme.document.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pod-A1.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 pod A1"


def test_anonymous_visitor_is_sent_to_the_login_page(worlds):
    response = Client().get("/orders/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/orders/"


def test_order_list_shows_only_the_accounts_orders_and_searches_by_po(worlds, alice):
    everything = alice.get("/orders/").content.decode()
    by_po = alice.get("/orders/", {"q": "PO-A1"}).content.decode()
    no_match = alice.get("/orders/", {"q": "PO-Z1"}).content.decode()

    assert "SO-A1" in everything and "SO-Z1" not in everything
    assert "SO-A1" in by_po
    assert "No orders match." in no_match


def test_unknown_status_filter_shows_the_form_error_not_a_list(worlds, alice):
    response = alice.get("/orders/", {"status": "delivred"})

    page = response.content.decode()
    assert response.status_code == 400
    assert (
        "Select a valid choice. delivred is not one of the available choices." in page
    )
    assert "SO-A1" not in page


def test_status_filter_keeps_matching_orders(worlds, alice):
    assert "SO-A1" in alice.get("/orders/", {"status": "delivered"}).content.decode()
    assert "SO-A1" not in alice.get("/orders/", {"status": "on_hold"}).content.decode()


def test_tracking_page_shows_the_last_confirmed_milestone_and_quiet_flag(worlds, alice):
    acme, _ = worlds
    Shipment.objects.filter(pk=acme.shipment.pk).update(
        status="in_transit", last_actual_at=timezone.now() - dt.timedelta(days=3)
    )

    page = alice.get(f"/shipments/{acme.shipment.number}/").content.decode()

    assert "Last confirmed milestone: <strong>Delivered</strong>" in page
    assert "Not recently updated" in page
    assert "TRK-A1" in page


def test_return_request_creates_lines_and_asks_the_erp(worlds, alice):
    acme, _ = worlds
    line = acme.order.lines.get()

    response = alice.post(
        f"/returns/new/?order={acme.order.number}",
        {f"line_{line.pk}": "2", "reason": "wrong colour"},
    )

    created = ReturnRequest.objects.exclude(number__in=["RMA-A1", "RMA-Z1"]).get()
    outbox = OutboxMessage.objects.get(type="return.authorization_requested")
    assert response.status_code == 302
    assert response["Location"] == f"/returns/{created.number}/"
    assert created.number == f"RMA-{created.pk:06d}"
    assert [(rl.order_line_id, str(rl.quantity)) for rl in created.lines.all()] == [
        (line.pk, "2.000")
    ]
    assert outbox.destination.code == "erp"
    assert outbox.payload["lines"] == [
        {"line_number": 1, "sku": "SKU-A", "quantity": "2.000"}
    ]


def test_return_of_more_than_remains_is_refused_with_the_limit(worlds, alice):
    acme, _ = worlds
    line = acme.order.lines.get()

    response = alice.post(
        f"/returns/new/?order={acme.order.number}",
        {f"line_{line.pk}": "5", "reason": "too many"},
    )

    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 4." in response.content.decode()
    assert ReturnRequest.objects.count() == 2
    assert OutboxMessage.objects.count() == 0


def test_return_for_another_accounts_order_creates_nothing(worlds, bob):
    acme, _ = worlds
    line = acme.order.lines.get()

    response = bob.post(
        f"/returns/new/?order={acme.order.number}",
        {f"line_{line.pk}": "1", "reason": "x"},
    )

    assert response.status_code == 404
    assert ReturnRequest.objects.count() == 2


def test_logout_is_a_post_and_ends_the_session(worlds, alice):
    response = alice.post("/logout/")

    assert response.status_code == 302
    assert alice.get("/orders/").status_code == 302


@pytest.mark.parametrize(
    "url", ["/orders/", "/shipments/", "/documents/", "/returns/", "/orders/SO-A1/"]
)
def test_page_queries_do_not_grow_with_the_data(
    worlds, alice, url, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12) as small:
        alice.get(url)
    for n in range(20):
        make_world("ACME", f"B{n}")

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert alice.get(url).status_code == 200
