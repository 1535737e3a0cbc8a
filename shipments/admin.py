"""Admin for shipments, their cartons and history, alerts and documents.

Tracking events and ETA revisions are history that the projection is built
from; the admin shows them but never edits them, and the projected status
fields are read-only for the same reason.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from shipments.models import (
    Document,
    EtaRevision,
    FreightInvoice,
    FreightInvoiceLine,
    Package,
    ServiceAlert,
    Shipment,
    TrackingEvent,
)


class ReadOnlyAdminMixin:
    """Show rows without letting anyone add, change or delete them."""

    def has_add_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False


class PackageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Package
    extra = 0
    fields = [
        "sscc",
        "tracking_number",
        "weight_kg",
        "length_cm",
        "width_cm",
        "height_cm",
        "reference",
    ]
    readonly_fields = fields


class TrackingEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TrackingEvent
    extra = 0
    fields = [
        "occurred_at",
        "status",
        "kind",
        "external_code",
        "description",
        "reason_code",
        "city",
        "state",
        "country",
        "tz_source",
        "source",
        "withdrawn",
    ]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrackingEvent]:
        return super().get_queryset(request).select_related("shipment")


class EtaRevisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EtaRevision
    extra = 0
    fields = ["recorded_at", "eta", "eta_date", "source"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[EtaRevision]:
        return super().get_queryset(request).select_related("shipment")


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "account",
        "order",
        "direction",
        "status",
        "status_at",
        "carrier",
        "eta",
        "last_actual_at",
        "created_at",
    ]
    list_filter = ["status", "direction", "carrier"]
    list_select_related = ["account", "order", "carrier"]
    search_fields = [
        "number",
        "order__number",
        "account__number",
        "tracking_numbers",
        "packages__tracking_number",
    ]
    date_hierarchy = "created_at"
    autocomplete_fields = ["account", "carrier", "service"]
    raw_id_fields = ["order", "return_request"]
    # The projection owns these: they move only by applying tracking events.
    readonly_fields = [
        "status",
        "status_at",
        "exception_reason",
        "exception_at",
        "last_actual_at",
        "delivered_at",
        "pod_signed_by",
        "created_at",
        "updated_at",
    ]
    inlines = [PackageInline, TrackingEventInline, EtaRevisionInline]
    view_on_site = False


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "shipment", "tracking_number", "weight_kg", "reference"]
    list_select_related = ["shipment"]
    search_fields = ["sscc", "tracking_number", "shipment__number", "reference"]
    raw_id_fields = ["shipment"]


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "shipment",
        "occurred_at",
        "status",
        "kind",
        "external_code",
        "reason_code",
        "source",
        "withdrawn",
        "received_at",
    ]
    list_filter = ["status", "kind", "withdrawn", "tz_source"]
    list_select_related = ["shipment"]
    search_fields = ["shipment__number", "external_code", "event_key", "source"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["shipment", "canonical_event"]


@admin.register(EtaRevision)
class EtaRevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shipment", "eta", "eta_date", "source", "recorded_at"]
    list_select_related = ["shipment"]
    search_fields = ["shipment__number", "source"]
    date_hierarchy = "recorded_at"
    raw_id_fields = ["shipment"]


@admin.register(ServiceAlert)
class ServiceAlertAdmin(admin.ModelAdmin):
    list_display = [
        "reason_code",
        "message",
        "account",
        "order",
        "shipment",
        "raised_at",
        "cleared_at",
    ]
    list_filter = ["reason_code"]
    list_select_related = ["account", "order", "shipment"]
    search_fields = ["order__number", "shipment__number", "account__number", "message"]
    date_hierarchy = "raised_at"
    autocomplete_fields = ["account"]
    raw_id_fields = ["order", "shipment"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "kind",
        "number",
        "account",
        "order",
        "shipment",
        "filename",
        "size",
        "created_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["account", "order", "shipment"]
    search_fields = ["number", "filename", "order__number", "shipment__number"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["account"]
    raw_id_fields = ["order", "shipment"]
    # The file sits in private storage with no public URL, and its checksum
    # must match its bytes: documents come from the hub, never from a form.
    exclude = ["file"]
    readonly_fields = [
        "stored_as",
        "filename",
        "sha256",
        "size",
        "content_type",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Stored as")
    def stored_as(self, obj: Document) -> str:
        return obj.file.name


class FreightInvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FreightInvoiceLine
    extra = 0
    fields = [
        "line_number",
        "rate",
        "rate_qualifier",
        "charge",
        "charge_code",
        "description",
    ]
    readonly_fields = fields


@admin.register(FreightInvoice)
class FreightInvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Carriers' invoices as they were billed: audit data, never edited."""

    list_display = [
        "__str__",
        "shipment",
        "invoiced_on",
        "amount",
        "currency",
        "estimate",
        "variance",
        "reconciliation",
        "received_at",
    ]
    list_filter = ["reconciliation", "carrier_scac"]
    list_select_related = ["shipment"]
    search_fields = [
        "invoice_number",
        "pro_number",
        "bol_number",
        "shipment__number",
    ]
    date_hierarchy = "invoiced_on"
    raw_id_fields = ["shipment", "canonical_event"]
    inlines = [FreightInvoiceLineInline]


@admin.register(FreightInvoiceLine)
class FreightInvoiceLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["invoice", "line_number", "charge_code", "rate", "charge"]
    list_select_related = ["invoice"]
    search_fields = ["invoice__invoice_number", "charge_code"]
    raw_id_fields = ["invoice"]
