"""The portal's pages: scoping, lists, tracking, downloads, returns, query counts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import OutboxMessage
from orders.models import Order, ReturnRequest
from shipments.models import Shipment
from tests.portal.conftest import World, login
from tests.portal.factories import (
    NOW,
    ConnectionFactory,
    DocumentFactory,
    EtaRevisionFactory,
    MembershipFactory,
    OrderFactory,
    OrderLineFactory,
    ReturnLineFactory,
    ServiceAlertFactory,
    ShipmentFactory,
    TrackingEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def page_of(response) -> str:
    return response.content.decode()


def without_csrf_token(content: bytes) -> bytes:
    """Drop the per-response CSRF token, which is masked differently each time."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def owned_urls(world: World) -> list[str]:
    return [
        f"/orders/{world.order.number}/",
        f"/shipments/{world.shipment.number}/",
        f"/documents/{world.document.pk}/download/",
        f"/returns/{world.return_request.number}/",
        f"/returns/new/?order={world.order.number}",
    ]


# ---- Scoping (CASES B15) ---------------------------------------------------


def test_another_accounts_objects_answer_404(acme, bob):
    statuses = {url: bob.get(url).status_code for url in owned_urls(acme)}

    assert statuses == {url: 404 for url in owned_urls(acme)}


def test_owner_opens_every_page_of_their_objects(alice, acme):
    statuses = {url: alice.get(url).status_code for url in owned_urls(acme)}

    assert statuses == {url: 200 for url in owned_urls(acme)}


@pytest.mark.parametrize(
    ("existing", "missing"),
    [
        ("/orders/SO-A1/", "/orders/SO-NONE/"),
        ("/shipments/SH-A1/", "/shipments/SH-NONE/"),
        ("/returns/RMA-A1/", "/returns/RMA-NONE/"),
        ("/returns/new/?order=SO-A1", "/returns/new/?order=SO-NONE"),
    ],
)
def test_another_accounts_object_looks_exactly_like_a_missing_one(
    acme, bob, existing, missing
):
    others = bob.get(existing)
    nothing = bob.get(missing)

    assert (others.status_code, nothing.status_code) == (404, 404)
    assert without_csrf_token(others.content) == without_csrf_token(nothing.content)


def test_document_ids_around_another_accounts_answer_the_same_404(acme, zeta, bob):
    ids = [pk for pk in range(acme.document.pk - 5, acme.document.pk + 11)]
    ids.remove(zeta.document.pk)

    responses = {pk: bob.get(f"/documents/{pk}/download/") for pk in ids}

    assert {pk: r.status_code for pk, r in responses.items()} == dict.fromkeys(ids, 404)
    bodies = {without_csrf_token(r.content) for r in responses.values()}
    assert len(bodies) == 1
    body = bodies.pop()
    assert acme.document.filename.encode() not in body
    assert acme.document.sha256.encode() not in body
    assert b"Not found" in body


def test_owner_downloads_the_document_as_an_attachment(alice, acme):
    response = alice.get(f"/documents/{acme.document.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="POD-A1.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 POD-A1"


def test_download_name_loses_paths_quotes_and_control_characters(alice, acme):
    document = DocumentFactory(
        shipment=acme.shipment, filename='..\\..//etc/"pod"\r\n;x=1.pdf'
    )

    response = alice.get(f"/documents/{document.pk}/download/")

    assert response["Content-Disposition"] == 'attachment; filename="pod_x_1.pdf"'


def test_document_pages_never_show_a_storage_path(alice, acme):
    pages = [alice.get(url) for url in ("/documents/", f"/orders/{acme.order.number}/")]

    for response in pages:
        assert acme.document.file.name not in page_of(response)
        assert f'href="/documents/{acme.document.pk}/download/"' in page_of(response)


def test_anonymous_visitor_is_sent_to_the_login_page(acme):
    response = Client().get("/orders/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/orders/"


def test_root_sends_a_customer_to_the_order_list(alice):
    response = alice.get("/")

    assert (response.status_code, response["Location"]) == (302, "/orders/")


def test_login_without_a_membership_gets_a_readable_403(db):
    client = login(UserFactory(username="drifter"))

    response = client.get("/orders/")

    assert response.status_code == 403
    assert "<h1>No customer account</h1>" in page_of(response)
    assert "You are logged in as <strong>drifter</strong>" in page_of(response)


def test_user_of_several_accounts_works_in_the_first_by_name(acme, zeta):
    MembershipFactory(user=zeta.user, account=acme.account)

    page = page_of(login(zeta.user).get("/orders/"))

    assert '<span class="account-name">Acme Tools</span>' in page
    assert "SO-A1" in page
    assert "SO-Z1" not in page


def test_logout_is_post_only_and_ends_the_session(alice):
    refused = alice.get("/logout/")
    response = alice.post("/logout/")

    assert refused.status_code == 405
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert alice.get("/orders/").status_code == 302


def test_every_form_carries_a_csrf_token_and_no_inline_code(alice, acme):
    pages = [
        alice.get("/orders/"),
        alice.get(f"/returns/new/?order={acme.order.number}"),
        Client().get("/login/"),
    ]

    for response in pages:
        html = page_of(response)
        assert html.count('name="csrfmiddlewaretoken"') == html.count('method="post"')
        assert "<script" not in html
        assert "style=" not in html and "<style" not in html


# ---- Order list and detail --------------------------------------------------


def test_order_list_searches_by_order_or_po_number_within_the_account(
    alice, acme, zeta
):
    OrderFactory(account=acme.account, number="SO-A2", po_number="PO-OTHER")

    everything = page_of(alice.get("/orders/"))
    by_number = page_of(alice.get("/orders/", {"q": "so-a2"}))
    by_po = page_of(alice.get("/orders/", {"q": "PO-A1"}))
    other_account = page_of(alice.get("/orders/", {"q": "PO-Z1"}))

    assert ("SO-A1" in everything, "SO-A2" in everything) == (True, True)
    assert "SO-Z1" not in everything
    assert ("SO-A1" in by_number, "SO-A2" in by_number) == (False, True)
    assert ("SO-A1" in by_po, "SO-A2" in by_po) == (True, False)
    assert "No orders match." in other_account


def test_order_list_shows_newest_first_in_pages_of_25(alice, acme):
    for n in range(25):
        OrderFactory(account=acme.account, number=f"SO-N{n:02d}")

    first = page_of(alice.get("/orders/"))
    second = page_of(alice.get("/orders/", {"page": 2}))

    numbers = re.findall(r'href="/orders/(SO-[^/]+)/"', first)
    assert numbers[:2] == ["SO-N24", "SO-N23"]
    assert len(numbers) == 25
    assert re.findall(r'href="/orders/(SO-[^/]+)/"', second) == ["SO-A1"]
    assert "Page 2 of 2" in second


def test_status_filter_keeps_only_matching_orders(alice, acme):
    OrderFactory(account=acme.account, number="SO-HELD", status=Order.Status.ON_HOLD)

    held = page_of(alice.get("/orders/", {"status": "on_hold"}))

    assert ("SO-HELD" in held, "SO-A1" in held) == (True, False)


def test_unknown_status_filter_shows_the_form_error_not_a_list(alice, acme):
    response = alice.get("/orders/", {"status": "delivred"})

    page = page_of(response)
    assert response.status_code == 400
    assert (
        '<p class="field-error">Select a valid choice. delivred is not one of the '
        "available choices.</p>" in page
    )
    assert "Correct the search above to see results." in page
    assert "SO-A1" not in page
    assert "No orders match." not in page


def test_order_page_shows_lines_shipments_alerts_and_documents(alice, acme):
    OrderLineFactory(
        order=acme.order,
        line_number=2,
        item__sku="SKU-BOLT",
        item__description="Hex bolt M8",
        quantity=Decimal("12.500"),
        shipped_quantity=Decimal("10"),
    )
    ServiceAlertFactory(shipment=acme.shipment, message="Snow in Ohio.")
    ServiceAlertFactory(shipment=acme.shipment, message="Old news.", cleared_at=NOW)
    acme.shipment.carrier.tracking_url_template = (
        "https://track.example/{tracking_number}"
    )
    acme.shipment.carrier.save()

    page = page_of(alice.get("/orders/SO-A1/"))

    assert (
        "<td>2</td>\n      <td>SKU-BOLT</td>\n      <td>Hex bolt M8</td>\n"
        '      <td class="num">12.5</td>\n      <td class="num">10</td>\n'
        "      <td>EA</td>" in page
    )
    assert '<a href="/shipments/SH-A1/">SH-A1</a>' in page
    assert '<span class="status status-delivered">Delivered</span>' in page
    tracking = acme.shipment.tracking_numbers[0]
    assert (
        f'<a href="https://track.example/{tracking}" rel="noopener noreferrer">'
        f"{tracking}</a>" in page
    )
    assert "<strong>Service alert:</strong> Snow in Ohio." in page
    assert "Old news." not in page
    assert "Proof of delivery POD-A1" in page
    assert "Request a return" in page


def test_held_order_shows_why_it_is_held(alice, acme):
    Order.objects.filter(pk=acme.order.pk).update(
        status=Order.Status.ON_HOLD,
        hold_reasons=["credit hold on account ACME", "requested date is in the past"],
    )

    page = page_of(alice.get("/orders/SO-A1/"))

    assert "<strong>On hold.</strong>" in page
    assert "<li>Credit hold on account ACME</li>" in page
    assert "<li>Requested date is in the past</li>" in page
    assert "Request a return" not in page


# ---- Shipments and tracking -------------------------------------------------


def test_tracking_page_lists_milestones_in_order_without_withdrawn_ones(alice, acme):
    shipment = ShipmentFactory(
        order=acme.order, number="SH-T1", last_actual_at=NOW + dt.timedelta(hours=2)
    )
    TrackingEventFactory(
        shipment=shipment, status="picked_up", occurred_at=NOW, description="Picked"
    )
    TrackingEventFactory(
        shipment=shipment,
        status="out_for_delivery",
        occurred_at=NOW + dt.timedelta(hours=1),
        withdrawn=True,
    )
    TrackingEventFactory(
        shipment=shipment,
        status="in_transit",
        occurred_at=NOW + dt.timedelta(hours=2),
        city="Dayton",
    )
    TrackingEventFactory(
        shipment=shipment,
        status="delivered",
        kind="estimated",
        occurred_at=NOW + dt.timedelta(days=2),
        city="",
    )

    page = page_of(alice.get("/shipments/SH-T1/"))

    timeline = re.findall(
        r'<li class="kind-(\w+)">\s*<span class="when"><time [^>]+>([^<]+)</time>'
        r'</span>\s*<span class="what"><strong>([^<]+)</strong>\s*'
        r'<span class="kind">(\w+)</span>',
        page,
    )
    assert timeline == [
        ("actual", "2025-03-04 12:00 EST", "Picked up", "Actual"),
        ("actual", "2025-03-04 14:00 EST", "In transit", "Actual"),
        ("estimated", "2025-03-06 12:00 EST", "Delivered", "Estimated"),
    ]
    assert "Out for delivery" not in page


def test_tracking_page_shows_carrier_service_tracking_and_eta_in_account_time(
    alice, acme
):
    shipment = ShipmentFactory(
        order=acme.order,
        number="SH-ETA",
        carrier__name="Ridgeline Freight",
        service__name="Two Day",
        tracking_numbers=["1ZAA", "1ZBB"],
        eta=dt.datetime(2025, 3, 10, 15, 30, tzinfo=dt.UTC),
    )
    EtaRevisionFactory(shipment=shipment, eta_date=dt.date(2025, 3, 9), eta=None)
    EtaRevisionFactory(shipment=shipment, eta=shipment.eta)

    page = page_of(alice.get("/shipments/SH-ETA/"))

    assert "<dt>Carrier</dt><dd>Ridgeline Freight</dd>" in page
    assert "<dt>Service</dt><dd>Two Day</dd>" in page
    assert "1ZAA, 1ZBB" in page
    # 10 March 2025 is after the start of daylight time in New York.
    assert (
        '<dd class="eta"><time datetime="2025-03-10T11:30-04:00">'
        "2025-03-10 11:30 EDT</time></dd>" in page
    )
    revisions = re.findall(
        r"<tr><td><time [^>]+>[^<]+</time></td><td>(.*?)</td></tr>", page
    )
    assert revisions == [
        '<time datetime="2025-03-09">2025-03-09</time>',
        '<time datetime="2025-03-10T11:30-04:00">2025-03-10 11:30 EDT</time>',
    ]


def test_date_only_eta_stays_a_date(alice, acme):
    ShipmentFactory(
        order=acme.order, number="SH-DAY", eta=None, eta_date=dt.date(2025, 3, 7)
    )

    page = page_of(alice.get("/shipments/SH-DAY/"))

    assert '<dd class="eta"><time datetime="2025-03-07">2025-03-07</time></dd>' in page


def test_quiet_tracking_shows_the_last_milestone_and_a_flag_not_an_error(alice, acme):
    shipment = ShipmentFactory(
        order=acme.order, number="SH-QUIET", last_actual_at=NOW, status="in_transit"
    )
    TrackingEventFactory(shipment=shipment, status="in_transit", occurred_at=NOW)

    response = alice.get("/shipments/SH-QUIET/")

    page = page_of(response)
    assert response.status_code == 200
    assert (
        "Last confirmed milestone: <strong>In transit</strong> at "
        '<time datetime="2025-03-04T12:00-05:00">2025-03-04 12:00 EST</time>' in page
    )
    assert "Not recently updated" in page


@pytest.mark.parametrize(
    ("status", "age", "quiet"),
    [
        ("in_transit", dt.timedelta(hours=47), False),
        ("in_transit", dt.timedelta(hours=49), True),
        ("delivered", dt.timedelta(days=30), False),
    ],
)
def test_quiet_flag_needs_48_hours_without_news_and_no_delivery(
    alice, acme, status, age, quiet
):
    at = timezone.now() - age
    shipment = ShipmentFactory(
        order=acme.order, number="SH-AGE", status=status, last_actual_at=at
    )
    TrackingEventFactory(shipment=shipment, status=status, occurred_at=at)

    page = page_of(alice.get("/shipments/SH-AGE/"))

    assert ("Not recently updated" in page) is quiet


def test_shipment_without_milestones_says_so(alice, acme):
    ShipmentFactory(order=acme.order, number="SH-NEW", last_actual_at=None)

    page = page_of(alice.get("/shipments/SH-NEW/"))

    assert "No milestone confirmed yet." in page
    assert "No milestones yet." in page


def test_shipment_list_date_filter_reads_a_plain_date_in_the_account_zone(alice, acme):
    # Midnight on 1 March in New York is 05:00 UTC.
    for number, delivered in [
        ("SH-BEFORE", dt.datetime(2025, 3, 1, 4, 59, tzinfo=dt.UTC)),
        ("SH-AFTER", dt.datetime(2025, 3, 1, 5, 0, tzinfo=dt.UTC)),
    ]:
        ShipmentFactory(order=acme.order, number=number, delivered_at=delivered)

    page = page_of(alice.get("/shipments/", {"delivered_after": "2025-03-01"}))

    assert ("SH-AFTER" in page, "SH-BEFORE" in page) == (True, False)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"delivered_after": "2025-13-45"}, "Enter a valid date/time."),
        ({"delivered_after": "2025-0"}, "Enter a valid date/time."),
        (
            {"status": "delivred"},
            "Select a valid choice. delivred is not one of the available choices.",
        ),
    ],
)
def test_bad_shipment_filter_values_show_the_form_error(alice, acme, query, error):
    response = alice.get("/shipments/", query)

    page = page_of(response)
    assert response.status_code == 400
    assert f'<p class="field-error">{error}</p>' in page
    assert "SH-A1" not in page
    assert "No shipments match." not in page


def test_shipment_search_by_carton_reference_lists_the_shipment_once(alice, acme):
    shipment = ShipmentFactory(order=acme.order, number="SH-300")
    shipment.packages.create(sscc="000000000000000017", reference="PO-77")
    shipment.packages.create(sscc="000000000000000024", reference="PO-77")

    page = page_of(alice.get("/shipments/", {"q": "PO-77"}))

    assert re.findall(r'href="/shipments/(SH-[^/]+)/"', page) == ["SH-300"]


# ---- Return requests --------------------------------------------------------


def test_return_form_offers_each_line_up_to_what_remains(alice, acme):
    page = page_of(alice.get(f"/returns/new/?order={acme.order.number}"))

    field = f'name="line_{acme.line.pk}"'
    assert field in page
    assert 'max="4"' in page
    assert "up to 4 EA" in page


def test_return_request_creates_lines_and_asks_the_erp(alice, acme):
    erp = ConnectionFactory(code="erp")
    second = OrderLineFactory(order=acme.order, line_number=2, quantity=Decimal(3))

    response = alice.post(
        f"/returns/new/?order={acme.order.number}",
        {
            f"line_{acme.line.pk}": "2",
            f"line_{second.pk}": "0.5",
            "reason": "wrong colour",
        },
    )

    created = ReturnRequest.objects.exclude(pk=acme.return_request.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/returns/{created.number}/"
    assert created.number == f"RMA-{created.pk:06d}"
    assert (created.reason, created.created_by) == ("wrong colour", acme.user)
    assert sorted(
        (line.order_line_id, line.quantity) for line in created.lines.all()
    ) == [(acme.line.pk, Decimal("2.000")), (second.pk, Decimal("0.500"))]
    outbox = OutboxMessage.objects.get()
    assert (outbox.destination, outbox.type) == (
        erp,
        "return.authorization_requested",
    )
    assert outbox.subject == created.number
    assert outbox.correlation_id == "SO-A1"
    assert outbox.idempotency_key == (
        f"return.authorization_requested:{created.number}"
    )
    assert outbox.payload["lines"] == [
        {"line_number": 1, "sku": acme.line.item.sku, "quantity": "2", "unit": "EA"},
        {
            "line_number": 2,
            "sku": second.item.sku,
            "quantity": "0.5",
            "unit": "EA",
        },
    ]


def test_return_detail_shows_the_requested_lines(alice, acme):
    page = page_of(alice.get(f"/returns/{acme.return_request.number}/"))

    assert "Return RMA-A1" in page
    assert f"<td>{acme.line.item.sku}</td>" in page
    assert '<td class="num">1</td>' in page
    assert "<dd>Damaged in transit</dd>" in page


def test_return_of_more_than_remains_is_refused_with_the_limit(alice, acme):
    ConnectionFactory(code="erp")

    response = alice.post(
        f"/returns/new/?order={acme.order.number}",
        {f"line_{acme.line.pk}": "5", "reason": "too many"},
    )

    page = page_of(response)
    assert response.status_code == 400
    assert (
        f'<p class="field-error">Line 1 ({acme.line.item.sku}): at most 4 EA can be '
        "returned.</p>" in page
    )
    assert ReturnRequest.objects.count() == 1
    assert OutboxMessage.objects.count() == 0


def test_return_with_no_quantity_is_refused_on_the_form(alice, acme):
    response = alice.post(
        f"/returns/new/?order={acme.order.number}",
        {f"line_{acme.line.pk}": "0", "reason": "nothing"},
    )

    assert response.status_code == 400
    assert "<p>Enter a quantity to return for at least one line.</p>" in page_of(
        response
    )


def test_order_not_yet_delivered_offers_nothing_to_return(alice, acme):
    Order.objects.filter(pk=acme.order.pk).update(status=Order.Status.SHIPPED)

    page = page_of(alice.get(f"/returns/new/?order={acme.order.number}"))

    assert "Nothing on this order can be returned until it is delivered." in page
    assert '<form method="post" class="card return-form">' not in page


def test_return_for_another_accounts_order_creates_nothing(acme, bob):
    ConnectionFactory(code="erp")

    response = bob.post(
        f"/returns/new/?order={acme.order.number}",
        {f"line_{acme.line.pk}": "1", "reason": "x"},
    )

    assert response.status_code == 404
    assert ReturnRequest.objects.filter(account=acme.account).count() == 1
    assert OutboxMessage.objects.count() == 0


# ---- Times ------------------------------------------------------------------


def test_times_are_shown_in_the_accounts_zone_with_its_abbreviation(zeta, bob):
    Shipment.objects.filter(pk=zeta.shipment.pk).update(last_actual_at=NOW)

    page = page_of(bob.get("/shipments/SH-Z1/"))

    assert '<time datetime="2025-03-04T18:00+01:00">2025-03-04 18:00 CET</time>' in page
    assert "Times are shown in Europe/Berlin time." in page


# ---- Query counts -----------------------------------------------------------


def grow(world: World, n: int) -> None:
    """Add n of every row the account's pages list."""
    for _ in range(n):
        count = Order.objects.count()
        tag = f"{world.order.number}-G{count}"
        line = OrderLineFactory(order__account=world.account, order__number=tag)
        shipment = ShipmentFactory(order=line.order, number=f"SH-{tag}")
        TrackingEventFactory(shipment=shipment)
        DocumentFactory(shipment=shipment, number=f"DOC-{tag}")
        ReturnLineFactory(return_request__order=line.order, order_line=line)

        extra = OrderLineFactory(order=world.order, line_number=100 + count)
        ReturnLineFactory(return_request=world.return_request, order_line=extra)
        ShipmentFactory(order=world.order, number=f"SH-{tag}-X")
        DocumentFactory(shipment=world.shipment, number=f"DOC-{tag}-X")
        ServiceAlertFactory(shipment=world.shipment)
        TrackingEventFactory(shipment=world.shipment)
        EtaRevisionFactory(shipment=world.shipment)


PAGES = [
    "/orders/",
    "/orders/SO-A1/",
    "/shipments/",
    "/shipments/SH-A1/",
    "/documents/",
    "/returns/",
    "/returns/RMA-A1/",
    "/returns/new/?order=SO-A1",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_queries_stay_the_same_from_3_to_30_rows(
    alice, acme, url, django_assert_max_num_queries
):
    grow(acme, 2)
    with CaptureQueriesContext(connection) as small:
        assert alice.get(url).status_code == 200
    grow(acme, 27)

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert alice.get(url).status_code == 200
    assert len(small.captured_queries) <= 12
