"""The admin that customer service and operations work in."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, InboundMessage, OutboxMessage
from operations.models import ExceptionCase
from orders.admin import TraceRow, _trace_rows
from orders.models import Order
from tests.admin import factories

pytestmark = pytest.mark.django_db

PROJECT_APPS = [
    "masterdata",
    "orders",
    "shipments",
    "integrations",
    "operations",
    "api",
]
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
# Third-party admins (OAuth2 tokens) get the list and add pages checked; the
# change pages below need a row, and rows come from this project's factories.
WITH_ROWS = [
    model for model in REGISTERED if model._meta.app_label in {*PROJECT_APPS, "auth"}
]


def _label(model: type) -> str:
    return model._meta.label


def _url(model: type, view: str, *args: object) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


@pytest.fixture
def one_of_each(db) -> dict:
    """Create one row of every model that has a factory; return them by model."""
    return {model: factory.create() for model, factory in factories.FACTORIES.items()}


def _result_titles(html: str) -> list[str]:
    return re.findall(r'<th class="field-title"><a href="[^"]*">([^<]*)</a>', html)


def _inline_cells(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<td class="field-(\w+)">\s*<p>(.*?)</p>', html)


def test_every_project_model_is_registered():
    models = [
        model
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
    ]

    missing = [_label(model) for model in models if model not in admin.site._registry]

    assert missing == []


def test_site_header_names_waybill_operations(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert '<a href="/admin/">Waybill operations</a>' in response.text


@pytest.mark.parametrize("model", REGISTERED, ids=_label)
def test_changelist_loads_with_a_row_of_every_model(admin_client, one_of_each, model):
    response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=_label)
def test_add_page_loads_or_is_forbidden_where_adding_is_off(
    admin_client, admin_user, rf, model
):
    request = rf.get("/")
    request.user = admin_user
    allowed = admin.site._registry[model].has_add_permission(request)

    response = admin_client.get(_url(model, "add"))

    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("model", WITH_ROWS, ids=_label)
def test_change_page_loads(admin_client, model):
    row = factories.FACTORIES[model].create()

    response = admin_client.get(_url(model, "change", row.pk))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model", "can_add"),
    [
        (InboundMessage, False),
        (OutboxMessage, False),
        (factories.CanonicalEvent, False),
        (ExceptionCase, False),
        (factories.Document, False),
        (factories.TrackingEvent, False),
        (factories.EtaRevision, False),
        (Order, True),
        (factories.CodeMapping, True),
        (Connection, True),
    ],
    ids=lambda value: value if isinstance(value, bool) else _label(value),
)
def test_audit_and_history_rows_cannot_be_added(admin_client, model, can_add):
    response = admin_client.get(_url(model, "add"))

    assert (response.status_code == 200) is can_add


@pytest.mark.parametrize(
    "factory_class",
    [
        factories.InboundMessageFactory,
        factories.OutboxMessageFactory,
        factories.CanonicalEventFactory,
    ],
    ids=lambda f: f._meta.model.__name__,
)
def test_audit_trail_is_view_only(admin_client, factory_class):
    row = factory_class.create()
    model = factory_class._meta.model

    page = admin_client.get(_url(model, "change", row.pk))
    post = admin_client.post(_url(model, "change", row.pk), {})
    delete = admin_client.get(_url(model, "delete", row.pk))

    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert post.status_code == 403
    assert delete.status_code == 403
    assert "delete_selected" not in admin.site._registry[model].get_actions(
        page.wsgi_request
    )


def test_inbound_detail_shows_the_raw_body_as_text_its_hash_and_its_events(
    admin_client,
):
    body = b'{"order": "SO-7", "note": "caf\xc3\xa9 \xff <b>"}'
    message = factories.InboundMessageFactory(body=body)
    factories.CanonicalEventFactory(
        inbound_message=message,
        type="order.released",
        subject="SO-7",
        time=dt.datetime(2025, 3, 4, 9, 30, tzinfo=dt.UTC),
        state="needs_attention",
    )

    response = admin_client.get(_url(InboundMessage, "change", message.pk))

    html = response.text
    digest = hashlib.sha256(body).hexdigest()
    assert (
        '<pre class="raw-text">{&quot;order&quot;: &quot;SO-7&quot;, '
        "&quot;note&quot;: &quot;café \ufffd &lt;b&gt;&quot;}</pre>"
    ) in html
    assert f"{digest} (matches the stored hash)" in html
    assert _inline_cells(html) == [
        ("type", "order.released"),
        ("subject", "SO-7"),
        ("time", "March 4, 2025, 9:30 a.m."),
        ("state", "Needs attention"),
        ("error", "-"),
    ]


def test_inbound_detail_flags_a_body_that_does_not_match_its_hash(admin_client):
    message = factories.InboundMessageFactory(body=b"{}", sha256="0" * 64)

    response = admin_client.get(_url(InboundMessage, "change", message.pk))

    digest = hashlib.sha256(b"{}").hexdigest()
    assert f"{digest} (does NOT match the stored hash)" in response.text


def test_inbound_list_truncates_the_error(admin_client):
    factories.InboundMessageFactory(error="unmapped carrier code DLV2 " * 10)

    response = admin_client.get(_url(InboundMessage, "changelist"))

    shown = ("unmapped carrier code DLV2 " * 3 + "unmapped carrier c")[:79] + "…"
    assert f'<td class="field-short_error">{shown}</td>' in response.text


def test_outbox_detail_shows_pretty_payload_and_error_history(admin_client):
    message = factories.OutboxMessageFactory(
        payload={"number": "SO-1", "lines": [1]},
        state="dead",
        last_error="HTTP 500: boom",
        errors=[
            {"at": "2025-03-04T10:00:00+00:00", "error": "timeout"},
            {"at": "2025-03-04T10:00:02+00:00", "error": "HTTP 500: boom"},
        ],
    )

    response = admin_client.get(_url(OutboxMessage, "change", message.pk))

    html = response.text
    pretty = "{\n  &quot;lines&quot;: [\n    1\n  ],\n  &quot;number&quot;: &quot;SO-1&quot;\n}"
    assert f'<pre class="raw-text">{pretty}</pre>' in html
    assert (
        "<tbody><tr><td>2025-03-04T10:00:00+00:00</td><td>timeout</td></tr>"
        "<tr><td>2025-03-04T10:00:02+00:00</td><td>HTTP 500: boom</td></tr></tbody>"
    ) in html


def test_connection_change_page_never_shows_its_secrets(admin_client):
    conn = factories.ConnectionFactory(
        inbound_secret="whsec_inbound_Zq81", outbound_secret="whsec_outbound_Pp42"
    )

    page = admin_client.get(_url(Connection, "change", conn.pk))
    listing = admin_client.get(_url(Connection, "changelist"))

    for response in (page, listing):
        assert response.status_code == 200
        assert "whsec_inbound_Zq81" not in response.text
        assert "whsec_outbound_Pp42" not in response.text
    assert '<input type="password" name="inbound_secret"' in page.text


def _connection_form(conn: Connection, **changes: str) -> dict:
    data = {
        "code": conn.code,
        "name": conn.name,
        "kind": conn.kind,
        "protocol": conn.protocol,
        "scac": "",
        "base_url": conn.base_url,
        "inbound_secret": "",
        "outbound_secret": "",
        "secret_overlap_seconds": "86400",
        "outbound_auth": "hmac",
        "api_key_header": "X-Api-Key",
        "oauth_token_url": "",
        "oauth_client_id": "",
        "oauth_scope": "",
        "timeout_seconds": "5.0",
        "max_attempts": "8",
        "retry_base_seconds": "30",
        "retry_max_seconds": "21600",
        "ack_window_minutes": "0",
        "queue": "",
        "breaker_threshold": "5",
        "breaker_reset_seconds": "30",
        "enabled": "on",
        "sending_enabled": "on",
        "subscriptions-TOTAL_FORMS": "0",
        "subscriptions-INITIAL_FORMS": "0",
        "subscriptions-MIN_NUM_FORMS": "0",
        "subscriptions-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    return {**data, **changes}


def test_connection_secret_left_blank_keeps_the_old_one(admin_client):
    conn = factories.ConnectionFactory(
        inbound_secret="old-inbound", outbound_secret="old-outbound"
    )

    response = admin_client.post(
        _url(Connection, "change", conn.pk),
        _connection_form(conn, name="Renamed", outbound_secret="new-outbound"),
    )

    conn.refresh_from_db()
    assert response.status_code == 302
    assert (conn.name, conn.inbound_secret, conn.outbound_secret) == (
        "Renamed",
        "old-inbound",
        "new-outbound",
    )


def _post_action(client, model: type, action: str, rows: list):
    return client.post(
        _url(model, "changelist"),
        {"action": action, "_selected_action": [row.pk for row in rows]},
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_inbound_replay_action_makes_messages_received_again(admin_client):
    stuck = factories.InboundMessageFactory(
        state="needs_attention", attempts=1, error="unmapped code"
    )
    failed = factories.InboundMessageFactory(
        state="failed", attempts=8, next_attempt_at=timezone.now()
    )
    done = factories.InboundMessageFactory(state="processed", attempts=1)

    response = _post_action(
        admin_client, InboundMessage, "replay_selected", [stuck, failed, done]
    )

    states = InboundMessage.objects.order_by("pk").values_list(
        "state", "attempts", "next_attempt_at"
    )
    assert list(states) == [
        ("received", 0, None),
        ("received", 0, None),
        ("processed", 1, None),
    ]
    assert _messages(response) == ["Replayed 2 of 3 selected message(s)."]


def test_outbox_replay_action_makes_dead_messages_pending_with_fresh_attempts(
    admin_client,
):
    dead = factories.OutboxMessageFactory(state="dead", attempts=8)
    delivered = factories.OutboxMessageFactory(state="delivered", attempts=1)

    response = _post_action(
        admin_client, OutboxMessage, "replay_selected", [dead, delivered]
    )

    states = OutboxMessage.objects.order_by("pk").values_list("state", "attempts")
    assert list(states) == [("pending", 0), ("delivered", 1)]
    assert _messages(response) == ["Replayed 1 of 2 selected message(s)."]


def test_replay_leaves_an_admin_log_entry_per_message(admin_client):
    dead = factories.OutboxMessageFactory(state="dead", attempts=8)

    _post_action(admin_client, OutboxMessage, "replay_selected", [dead])

    entries = admin.models.LogEntry.objects.values_list(
        "user__username", "object_id", "change_message"
    )
    assert list(entries) == [("admin", str(dead.pk), "Replayed from the admin.")]


def _case(title: str, age: dt.timedelta, **fields) -> ExceptionCase:
    case = factories.ExceptionCaseFactory(title=title, **fields)
    created = timezone.now() - age
    ExceptionCase.objects.filter(pk=case.pk).update(created_at=created)
    return case


def test_exception_queue_lists_the_oldest_case_first(admin_client):
    _case("two hours old", dt.timedelta(hours=2))
    _case("three days old", dt.timedelta(days=3))
    _case("ten minutes old", dt.timedelta(minutes=10))

    response = admin_client.get(_url(ExceptionCase, "changelist"))

    assert _result_titles(response.text) == [
        "three days old",
        "two hours old",
        "ten minutes old",
    ]


def test_exception_queue_shows_age_in_words(admin_client):
    _case("old", dt.timedelta(days=3, hours=2, minutes=5))

    response = admin_client.get(_url(ExceptionCase, "changelist"))

    assert '<td class="field-age">3\xa0days, 2\xa0hours</td>' in response.text


def test_only_open_overdue_cases_get_the_overdue_class(admin_client):
    past = timezone.now() - dt.timedelta(hours=1)
    _case("overdue", dt.timedelta(hours=9), sla_due_at=past)
    _case("resolved late", dt.timedelta(hours=8), sla_due_at=past, state="resolved")
    _case("in time", dt.timedelta(hours=7))

    response = admin_client.get(_url(ExceptionCase, "changelist"))

    assert response.text.count('class="sla-overdue"') == 1
    rows = re.findall(r"<tr>.*?</tr>", response.text, flags=re.S)
    marked = [row for row in rows if 'class="sla-overdue"' in row]
    assert _result_titles(marked[0]) == ["overdue"]


def test_sla_filter_narrows_to_overdue_open_cases(admin_client):
    past = timezone.now() - dt.timedelta(hours=1)
    _case("overdue", dt.timedelta(hours=9), sla_due_at=past)
    _case("resolved late", dt.timedelta(hours=8), sla_due_at=past, state="resolved")
    _case("in time", dt.timedelta(hours=7))

    response = admin_client.get(_url(ExceptionCase, "changelist") + "?sla=overdue")

    assert _result_titles(response.text) == ["overdue"]


def test_mark_resolved_action_resolves_open_cases(admin_client):
    first = _case("first", dt.timedelta(hours=2))
    second = _case("second", dt.timedelta(hours=1))
    already = _case("already", dt.timedelta(hours=3), state="resolved")

    response = _post_action(
        admin_client, ExceptionCase, "mark_resolved", [first, second, already]
    )

    cases = ExceptionCase.objects.order_by("title").values_list(
        "title", "state", "resolved_at"
    )
    assert [(title, state, at is None) for title, state, at in cases] == [
        ("already", "resolved", True),
        ("first", "resolved", False),
        ("second", "resolved", False),
    ]
    assert _messages(response) == ["Resolved 2 case(s)."]


def test_case_page_links_to_its_messages_order_and_shipment(admin_client):
    case = factories.LinkedExceptionCaseFactory()

    response = admin_client.get(_url(ExceptionCase, "change", case.pk))

    html = response.text
    for related in (
        case.order,
        case.shipment,
        case.inbound_message,
        case.outbox_message,
    ):
        assert f'<a href="{_url(type(related), "change", related.pk)}">' in html


def test_exception_queue_links_order_and_shipment_columns(admin_client):
    case = factories.LinkedExceptionCaseFactory()

    response = admin_client.get(_url(ExceptionCase, "changelist"))

    order_url = _url(Order, "change", case.order.pk)
    shipment_url = _url(factories.Shipment, "change", case.shipment.pk)
    assert (
        f'<td class="field-order_link"><a href="{order_url}">{case.order.number}</a>'
        in response.text
    )
    assert (
        f'<td class="field-shipment_link"><a href="{shipment_url}">'
        f"{case.shipment.number}</a>" in response.text
    )


def test_code_mapping_list_edits_codes_in_place(admin_client):
    mapping = factories.CodeMappingFactory(external_code="DLV", canonical_value="x")

    response = admin_client.post(
        _url(factories.CodeMapping, "changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(mapping.pk),
            "form-0-external_code": "DLV2",
            "form-0-canonical_value": "delivered",
            "_save": "Save",
        },
    )

    mapping.refresh_from_db()
    assert response.status_code == 302
    assert (mapping.external_code, mapping.canonical_value) == ("DLV2", "delivered")


def _at(minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, 4, 10, minute, second, tzinfo=dt.UTC)


def _traced_order() -> tuple[Order, list]:
    order = factories.OrderFactory(number="SO-TRACE")
    erp = factories.ConnectionFactory(code="erp-trace")
    wms = factories.ConnectionFactory(code="wms-trace")
    released = factories.InboundMessageFactory(
        connection=erp, message_id="rel-1", correlation_id="SO-TRACE"
    )
    event = factories.CanonicalEventFactory(
        inbound_message=released,
        type="order.released",
        subject="SO-TRACE",
        time=_at(0),
        correlation_id="SO-TRACE",
    )
    request = factories.OutboxMessageFactory(
        destination=wms,
        type="fulfilment.requested",
        correlation_id="SO-TRACE",
        state="delivered",
    )
    picked = factories.InboundMessageFactory(
        connection=wms, message_id="pick-1", correlation_id="SO-TRACE"
    )
    factories.InboundMessageFactory(correlation_id="SO-OTHER")
    factories.CanonicalEventFactory(correlation_id="SO-OTHER")
    InboundMessage.objects.filter(pk=released.pk).update(received_at=_at(5))
    factories.CanonicalEvent.objects.filter(pk=event.pk).update(recorded_at=_at(5, 1))
    OutboxMessage.objects.filter(pk=request.pk).update(created_at=_at(5, 1))
    InboundMessage.objects.filter(pk=picked.pk).update(received_at=_at(40))
    return order, [released, event, request, picked]


def test_order_trace_merges_messages_and_events_in_the_order_the_hub_saw_them(
    django_assert_num_queries,
):
    _, (released, event, request, picked) = _traced_order()

    with django_assert_num_queries(3):
        rows = _trace_rows("SO-TRACE")

    assert rows == [
        TraceRow(
            _at(5),
            "inbound",
            "erp-trace/rel-1",
            "received",
            _url(InboundMessage, "change", released.pk),
        ),
        TraceRow(
            _at(5, 1),
            "event",
            "order.released SO-TRACE at 2025-03-04T10:00:00+00:00",
            "applied",
            _url(factories.CanonicalEvent, "change", event.pk),
        ),
        TraceRow(
            _at(5, 1),
            "outbound",
            "fulfilment.requested -> wms-trace",
            "delivered",
            _url(OutboxMessage, "change", request.pk),
        ),
        TraceRow(
            _at(40),
            "inbound",
            "wms-trace/pick-1",
            "received",
            _url(InboundMessage, "change", picked.pk),
        ),
    ]


def test_order_page_shows_the_trace_with_links(admin_client):
    order, (released, event, request, picked) = _traced_order()

    response = admin_client.get(_url(Order, "change", order.pk))

    links = re.findall(
        r'<table class="order-trace">.*?</table>', response.text, flags=re.S
    )
    hrefs = re.findall(r'<a href="([^"]+)">', links[0])
    assert hrefs == [
        _url(InboundMessage, "change", released.pk),
        _url(factories.CanonicalEvent, "change", event.pk),
        _url(OutboxMessage, "change", request.pk),
        _url(InboundMessage, "change", picked.pk),
    ]


def test_order_page_without_messages_says_so(admin_client):
    order = factories.OrderFactory()

    response = admin_client.get(_url(Order, "change", order.pk))

    assert "<p>No messages carry this order number.</p>" in response.text


BIG_LISTS = [
    factories.OrderFactory,
    factories.OrderLineFactory,
    factories.ReturnRequestFactory,
    factories.ShipmentFactory,
    factories.TrackingEventFactory,
    factories.DocumentFactory,
    factories.ServiceAlertFactory,
    factories.InboundMessageFactory,
    factories.CanonicalEventFactory,
    factories.OutboxMessageFactory,
    factories.LinkedExceptionCaseFactory,
    factories.MembershipFactory,
    factories.AddressFactory,
    factories.ItemFactory,
    factories.CodeMappingFactory,
]


@pytest.mark.parametrize(
    "factory_class", BIG_LISTS, ids=lambda f: f.__name__.removesuffix("Factory")
)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries, factory_class
):
    url = _url(factory_class._meta.model, "changelist")
    factory_class.create()
    admin_client.get(url)  # warms per-process caches such as content types
    with CaptureQueriesContext(connection) as one_row:
        admin_client.get(url)
    factory_class.create_batch(24)

    with django_assert_max_num_queries(len(one_row)):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 25
