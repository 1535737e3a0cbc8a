"""Exception cases that customer service works in the admin."""

from django.core.exceptions import ValidationError
from django.db import models


class ExceptionCase(models.Model):
    """A problem someone must look at, with a readable reason and an SLA."""

    class Kind(models.TextChoices):
        ORDER_HOLD = "order_hold", "Order held"
        UNMAPPED_CODE = "unmapped_code", "Unmapped code"
        UNKNOWN_REFERENCE = "unknown_reference", "Unknown reference"
        INVALID_MESSAGE = "invalid_message", "Invalid message"
        DELIVERY_EXCEPTION = "delivery_exception", "Delivery exception"
        DEAD_LETTER = "dead_letter", "Dead letter"
        TRACKING_QUIET = "tracking_quiet", "Tracking has gone quiet"
        MISSING_TRACKING = "missing_tracking", "Missing tracking number"
        DELAYED_ACK = "delayed_ack", "Acknowledgement overdue"
        REJECTED_ACK = "rejected_ack", "Acknowledgement rejected"
        FREIGHT_RECONCILIATION = "freight_reconciliation", "Freight to reconcile"
        FREIGHT_VARIANCE = "freight_variance", "Freight invoice variance"
        INVENTORY_VARIANCE = "inventory_variance", "Inventory variance"
        ENDPOINT_GONE = "endpoint_gone", "Endpoint gone"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    dedupe_key = models.CharField(
        max_length=200,
        unique=True,
        help_text="One open case per problem, not per retry.",
    )
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    shipment = models.ForeignKey(
        "shipments.Shipment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    inbound_message = models.ForeignKey(
        "integrations.InboundMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    outbox_message = models.ForeignKey(
        "integrations.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    sla_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="case_queue"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class LaneFallbackRule(models.Model):
    """The carrier a lane ships with when TMS rating is unavailable (DESIGN §9).

    A lane is a ship-from warehouse and a destination country, optionally a
    state; an empty field matches any. The most specific active rule wins:
    warehouse before country before state, then the lowest ``priority``.
    """

    ship_from = models.ForeignKey(
        "masterdata.Warehouse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="fallback_rules",
        help_text="Empty: any warehouse.",
    )
    destination_country = models.CharField(
        max_length=2, blank=True, help_text="ISO country code; empty: any."
    )
    destination_state = models.CharField(
        max_length=40, blank=True, help_text="Empty: any state."
    )
    carrier = models.ForeignKey(
        "masterdata.Carrier", on_delete=models.PROTECT, related_name="fallback_rules"
    )
    service = models.ForeignKey(
        "masterdata.CarrierService",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fallback_rules",
    )
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Lower wins between equally specific rules."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        lane = " → ".join(
            [
                self.ship_from.code if self.ship_from else "any warehouse",
                "/".join(
                    part
                    for part in [self.destination_country, self.destination_state]
                    if part
                )
                or "anywhere",
            ]
        )
        return f"{lane}: {self.carrier.scac}"

    def clean(self) -> None:
        """Normalise the lane and refuse a service of another carrier.

        Addresses keep upper-case ISO codes, so 'us' or 'oh' would never match.
        """
        self.destination_country = self.destination_country.strip().upper()
        self.destination_state = self.destination_state.strip().upper()
        errors = {}
        if self.destination_country and not (
            len(self.destination_country) == 2 and self.destination_country.isalpha()
        ):
            errors["destination_country"] = "Give the two-letter ISO code, e.g. US."
        if (
            self.service_id is not None
            and self.carrier_id is not None
            and self.service.carrier_id != self.carrier_id
        ):
            errors["service"] = (
                f"{self.service} is a service of {self.service.carrier}, "
                f"not of {self.carrier}."
            )
        if errors:
            raise ValidationError(errors)
