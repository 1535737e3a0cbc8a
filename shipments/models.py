"""Shipments, cartons, tracking history, ETA revisions, alerts, documents."""

from django.core.files.storage import Storage, storages
from django.db import models
from django.urls import reverse


def private_storage() -> Storage:
    """Return the private document storage, resolved when first used."""
    return storages["private"]


class ShipmentStatus(models.TextChoices):
    """Shipment status; the ladder's rank order is ``STATUS_RANK``."""

    PLANNED = "planned", "Planned"
    TENDERED = "tendered", "Tendered"
    CARRIER_ASSIGNED = "carrier_assigned", "Carrier assigned"
    PICKED_UP = "picked_up", "Picked up"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERY_ATTEMPTED = "delivery_attempted", "Delivery attempted"
    AVAILABLE_FOR_PICKUP = "available_for_pickup", "Available for pickup"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Exception"
    RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender"
    CANCELLED = "cancelled", "Cancelled"


# Rank on the ladder; statuses off the ladder rank above it so that a tie in
# event time between e.g. in_transit and cancelled resolves to the latter.
STATUS_RANK = {status: rank for rank, status in enumerate(ShipmentStatus.values)}


class Shipment(models.Model):
    """A shipment's projection; the history lives in ``TrackingEvent``."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        RETURN = "return", "Return"

    number = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey(
        "orders.CustomerAccount", on_delete=models.PROTECT, related_name="shipments"
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
    )
    return_request = models.ForeignKey(
        "orders.ReturnRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
    )
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    status = models.CharField(
        max_length=24, choices=ShipmentStatus.choices, default=ShipmentStatus.PLANNED
    )
    status_at = models.DateTimeField(null=True, blank=True)
    exception_reason = models.CharField(max_length=40, blank=True)
    exception_at = models.DateTimeField(null=True, blank=True)
    carrier = models.ForeignKey(
        "masterdata.Carrier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    service = models.ForeignKey(
        "masterdata.CarrierService",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    tracking_numbers = models.JSONField(default=list, blank=True)
    eta = models.DateTimeField(null=True, blank=True)
    eta_date = models.DateField(
        null=True,
        blank=True,
        help_text="Set instead of eta when the estimate is date-only.",
    )
    freight_estimate = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    freight_currency = models.CharField(max_length=3, blank=True)
    last_actual_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the last actual milestone."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    pod_signed_by = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status"], name="shipment_account_status"),
            models.Index(
                fields=["account", "-created_at"], name="shipment_account_created"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("portal:shipment_detail", kwargs={"number": self.number})


class Package(models.Model):
    """A carton of a shipment, with its SSCC and measured facts."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="packages"
    )
    sscc = models.CharField(max_length=20, blank=True)
    tracking_number = models.CharField(max_length=40, blank=True)
    weight_kg = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True
    )
    length_cm = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True
    )
    width_cm = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True
    )
    height_cm = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True
    )
    reference = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "sscc"],
                condition=~models.Q(sscc=""),
                name="package_sscc_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.sscc or f"package {self.pk}"


class TrackingEvent(models.Model):
    """One milestone in a shipment's history, kept even when it is late."""

    class Kind(models.TextChoices):
        ACTUAL = "actual", "Actual"
        ESTIMATED = "estimated", "Estimated"
        PLANNED = "planned", "Planned"

    class TzSource(models.TextChoices):
        PAYLOAD = "payload", "Offset in payload"
        LOCATION = "location", "Location's time zone"
        ASSUMED = "assumed", "Assumed"

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="events"
    )
    event_key = models.CharField(
        max_length=200,
        help_text="Deduplication key: source and event id, or content hash.",
    )
    source = models.CharField(max_length=100)
    status = models.CharField(max_length=24, choices=ShipmentStatus.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ACTUAL)
    external_code = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=300, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    occurred_at = models.DateTimeField()
    tz_source = models.CharField(
        max_length=10, choices=TzSource.choices, default=TzSource.PAYLOAD
    )
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=2, blank=True)
    withdrawn = models.BooleanField(default=False)
    canonical_event = models.ForeignKey(
        "integrations.CanonicalEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipment", "occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "event_key"], name="tracking_event_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["shipment", "occurred_at", "id"], name="tracking_event_time"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.shipment.number} {self.status} @ {self.occurred_at:%Y-%m-%d %H:%M}"
        )


class EtaRevision(models.Model):
    """Each estimate of arrival the shipment received, in receipt order."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="eta_revisions"
    )
    eta = models.DateTimeField(null=True, blank=True)
    eta_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=100)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipment", "recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.shipment.number} ETA {self.eta or self.eta_date}"


class ServiceAlert(models.Model):
    """A customer-visible alert on an order and shipment."""

    account = models.ForeignKey(
        "orders.CustomerAccount", on_delete=models.CASCADE, related_name="alerts"
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
    )
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    reason_code = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reason_code}: {self.message}"


class Document(models.Model):
    """A customer document in private storage; served only by an authorised view."""

    class Kind(models.TextChoices):
        BOL = "bol", "Bill of lading"
        PACKING_LIST = "packing_list", "Packing list"
        POD = "pod", "Proof of delivery"
        INVOICE = "invoice", "Invoice"
        OTHER = "other", "Other"

    account = models.ForeignKey(
        "orders.CustomerAccount", on_delete=models.PROTECT, related_name="documents"
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    number = models.CharField(max_length=60, blank=True)
    file = models.FileField(storage=private_storage, upload_to="documents/%Y/%m/")
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "number"],
                condition=~models.Q(number=""),
                name="document_number_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "-created_at"], name="document_account_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}".strip()


class FreightInvoice(models.Model):
    """A carrier's freight invoice and how it reconciled with the estimate.

    Audit data: stored once per carrier and invoice number as the carrier
    sent it, with the estimate it was compared against at the time.
    """

    class Reconciliation(models.TextChoices):
        MATCHED = "matched", "Within tolerance"
        VARIANCE = "variance", "Variance over tolerance"
        NO_ESTIMATE = "no_estimate", "No estimate to compare"
        UNMATCHED = "unmatched", "No shipment found"

    source = models.CharField(max_length=100)
    carrier_scac = models.CharField(max_length=4, blank=True)
    invoice_number = models.CharField(max_length=40)
    pro_number = models.CharField(max_length=40, blank=True)
    bol_number = models.CharField(max_length=40, blank=True)
    references = models.JSONField(default=list, blank=True)
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="freight_invoices",
    )
    invoiced_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    estimate = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The shipment's freight estimate when the invoice arrived.",
    )
    variance = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Amount minus estimate.",
    )
    reconciliation = models.CharField(max_length=12, choices=Reconciliation.choices)
    canonical_event = models.ForeignKey(
        "integrations.CanonicalEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier_scac", "invoice_number"],
                name="freight_invoice_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["reconciliation", "-received_at"],
                name="freight_invoice_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier_scac or '?'} {self.invoice_number}"


class FreightInvoiceLine(models.Model):
    """One charge of a freight invoice (an X12 L1): rate and amount."""

    invoice = models.ForeignKey(
        FreightInvoice, on_delete=models.CASCADE, related_name="lines"
    )
    line_number = models.PositiveIntegerField(null=True, blank=True)
    rate = models.DecimalField(max_digits=15, decimal_places=6, null=True, blank=True)
    rate_qualifier = models.CharField(max_length=4, blank=True)
    charge = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    charge_code = models.CharField(max_length=10, blank=True)
    description = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["invoice", "id"]

    def __str__(self) -> str:
        return f"{self.invoice}: {self.charge_code or 'charge'} {self.charge}"
