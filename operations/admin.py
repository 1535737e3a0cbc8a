"""Admin for the exception queue, and the admin site's own wording.

The queue lists the oldest case first: customer service works it from the
top, and the SLA clock of the oldest case runs out first.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from operations.models import ExceptionCase, LaneFallbackRule
from operations.services import case_resolve

admin.site.site_header = "Waybill operations"
admin.site.site_title = "Waybill operations"
admin.site.index_title = "Exceptions, messages and master data"


def _admin_link(obj: Model | None) -> SafeString | str:
    if obj is None:
        return "-"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj)


def _is_overdue(case: ExceptionCase, now: dt.datetime) -> bool:
    return (
        case.state == ExceptionCase.State.OPEN
        and case.sla_due_at is not None
        and case.sla_due_at < now
    )


class SlaFilter(admin.SimpleListFilter):
    """Narrow the queue to open cases past or within their SLA."""

    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("overdue", "Overdue"), ("due", "Within SLA")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ExceptionCase]
    ) -> QuerySet[ExceptionCase]:
        open_cases = queryset.filter(state=ExceptionCase.State.OPEN)
        if self.value() == "overdue":
            return open_cases.filter(sla_due_at__lt=timezone.now())
        if self.value() == "due":
            return open_cases.filter(sla_due_at__gte=timezone.now())
        return queryset


@admin.register(ExceptionCase)
class ExceptionCaseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "age",
        "kind",
        "order_link",
        "shipment_link",
        "sla_due",
        "state",
    ]
    list_display_links = ["title"]
    list_filter = ["kind", "state", SlaFilter]
    list_select_related = ["order", "shipment"]
    search_fields = ["title", "dedupe_key", "order__number", "shipment__number"]
    ordering = ["created_at", "id"]
    date_hierarchy = "created_at"
    fields = [
        "title",
        "kind",
        "state",
        "reason_code",
        "detail",
        "order",
        "shipment",
        "inbound_message",
        "outbox_message",
        "sla_due_at",
        "created_at",
        "resolved_at",
        "dedupe_key",
    ]
    # Services open and resolve cases; the form only lets staff add notes.
    readonly_fields = [name for name in fields if name != "detail"]
    actions = ["mark_resolved"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Age", ordering="created_at")
    def age(self, obj: ExceptionCase) -> str:
        return timesince(obj.created_at)

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, obj: ExceptionCase) -> SafeString | str:
        return _admin_link(obj.order)

    @admin.display(description="Shipment", ordering="shipment__number")
    def shipment_link(self, obj: ExceptionCase) -> SafeString | str:
        return _admin_link(obj.shipment)

    @admin.display(description="SLA due", ordering="sla_due_at")
    def sla_due(self, obj: ExceptionCase) -> SafeString | str:
        if obj.sla_due_at is None:
            return "-"
        text = formats.localize(timezone.localtime(obj.sla_due_at))
        if _is_overdue(obj, timezone.now()):
            return format_html('<span class="sla-overdue">{}</span>', text)
        return text

    @admin.action(description="Mark resolved", permissions=["change"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet) -> None:
        open_cases = queryset.filter(state=ExceptionCase.State.OPEN)
        cases = list(open_cases)
        resolved = sum(case_resolve(dedupe_key=case.dedupe_key) for case in cases)

        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=cases,
            action_flag=CHANGE,
            change_message="Marked resolved from the admin.",
        )

        self.message_user(request, f"Resolved {resolved} case(s).", messages.SUCCESS)


@admin.register(LaneFallbackRule)
class LaneFallbackRuleAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "ship_from",
        "destination_country",
        "destination_state",
        "carrier",
        "service",
        "priority",
        "active",
    ]
    list_filter = ["active", "carrier"]
    list_select_related = ["ship_from", "carrier", "service"]
