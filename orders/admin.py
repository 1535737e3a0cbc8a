"""Admin for accounts, memberships, orders and return requests.

The order change page carries the per-order trace: every inbound message,
canonical event and outbound message that names the order number as its
correlation id, merged in time order.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from integrations.models import CanonicalEvent, InboundMessage, OutboxMessage
from orders.models import (
    Address,
    CustomerAccount,
    Membership,
    Order,
    OrderLine,
    ReturnLine,
    ReturnRequest,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user", "account")


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "credit_status", "time_zone", "active"]
    list_filter = ["credit_status", "active"]
    search_fields = ["number", "name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "account"]
    search_fields = ["user__username", "user__email", "account__number"]
    autocomplete_fields = ["user", "account"]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "account", "kind", "city", "postal_code", "country"]
    list_filter = ["kind", "country"]
    list_select_related = ["account"]
    search_fields = ["code", "name", "city", "postal_code", "account__number"]
    autocomplete_fields = ["account"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["line_number", "item", "quantity", "unit", "shipped_quantity"]
    autocomplete_fields = ["item", "unit"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("order", "item", "unit")


class TraceRow(NamedTuple):
    """One entry of an order's trace, whatever its kind."""

    at: dt.datetime
    kind: str
    label: str
    state: str
    url: str


def _change_url(obj: object) -> str:
    meta = obj._meta  # type: ignore[attr-defined]
    name = f"admin:{meta.app_label}_{meta.model_name}_change"
    return reverse(name, args=[obj.pk])  # type: ignore[attr-defined]


def _trace_rows(number: str) -> list[TraceRow]:
    """Return the order's messages and events in the order the hub saw them.

    One query per kind. Rows are merged by when the hub received or wrote
    them, not by business time, so a message always precedes the events it
    produced even when a carrier reports a milestone hours late.
    """
    inbound = InboundMessage.objects.filter(correlation_id=number).select_related(
        "connection"
    )
    events = CanonicalEvent.objects.filter(correlation_id=number)
    outbound = OutboxMessage.objects.filter(correlation_id=number).select_related(
        "destination"
    )
    rows = [
        TraceRow(m.received_at, "inbound", str(m), m.state, _change_url(m))
        for m in inbound
    ]
    rows += [
        TraceRow(
            e.recorded_at,
            "event",
            f"{e.type} {e.subject} at {e.time.isoformat()}",
            e.state,
            _change_url(e),
        )
        for e in events
    ]
    rows += [
        TraceRow(
            m.created_at,
            "outbound",
            f"{m.type} -> {m.destination.code}",
            m.state,
            _change_url(m),
        )
        for m in outbound
    ]
    # Within one instant, kinds follow the chain: message, event, outbox.
    rank = {"inbound": 0, "event": 1, "outbound": 2}

    return sorted(rows, key=lambda row: (row.at, rank[row.kind]))


def _render_trace(rows: list[TraceRow]) -> SafeString:
    if not rows:
        return format_html("<p>{}</p>", "No messages carry this order number.")
    body = format_html_join(
        "",
        '<tr><td>{}</td><td>{}</td><td><a href="{}">{}</a></td><td>{}</td></tr>',
        ((row.at.isoformat(), row.kind, row.url, row.label, row.state) for row in rows),
    )
    return format_html(
        '<table class="order-trace"><thead><tr><th>Time</th><th>Kind</th>'
        "<th>Message or event</th><th>State</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        body,
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "account",
        "po_number",
        "status",
        "ship_from",
        "requested_date",
        "erp_flagged",
        "created_at",
    ]
    list_filter = ["status", "erp_flagged", "ship_from"]
    list_select_related = ["account", "ship_from"]
    search_fields = ["number", "po_number", "account__number", "account__name"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["account", "ship_from", "ship_to"]
    readonly_fields = ["released_at", "created_at", "updated_at", "trace"]
    inlines = [OrderLineInline]
    # Customer service staff are not members of the account, so the portal
    # page would answer 404.
    view_on_site = False

    def get_fieldsets(self, request: HttpRequest, obj: Order | None = None) -> list:
        """Put the trace in a section of its own, on existing orders only."""
        main = [f for f in self.get_fields(request, obj) if f != "trace"]
        fieldsets = [(None, {"fields": main})]
        if obj is not None:
            fieldsets.append(("Trace", {"fields": ["trace"]}))
        return fieldsets

    @admin.display(description="Messages and events for this order")
    def trace(self, obj: Order) -> SafeString:
        return _render_trace(_trace_rows(obj.number))


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    fields = ["order_line", "quantity"]
    raw_id_fields = ["order_line"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnLine]:
        queryset = super().get_queryset(request)
        return queryset.select_related("return_request", "order_line__order")


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "order",
        "line_number",
        "item",
        "quantity",
        "unit",
        "shipped_quantity",
    ]
    list_select_related = ["order", "item", "unit"]
    search_fields = ["order__number", "item__sku"]
    raw_id_fields = ["order"]
    autocomplete_fields = ["item", "unit"]


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ["number", "order", "account", "status", "created_by", "created_at"]
    list_filter = ["status"]
    list_select_related = ["order", "account", "created_by"]
    search_fields = ["number", "order__number", "account__number", "reason"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["account"]
    raw_id_fields = ["order", "created_by"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ReturnLineInline]


@admin.register(ReturnLine)
class ReturnLineAdmin(admin.ModelAdmin):
    list_display = ["__str__", "return_request", "order_line", "quantity"]
    list_select_related = ["return_request", "order_line__order"]
    search_fields = ["return_request__number", "order_line__order__number"]
    raw_id_fields = ["return_request", "order_line"]
