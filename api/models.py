"""Partner webhook subscriptions: which partner hears which events of which account."""

from django.db import models


class WebhookSubscription(models.Model):
    """A partner connection's subscription to one event type of one account."""

    class EventType(models.TextChoices):
        SHIPMENT_MILESTONE = "shipment.milestone", "Shipment milestone"

    partner = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    account = models.ForeignKey(
        "orders.CustomerAccount", on_delete=models.CASCADE, related_name="subscriptions"
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "account", "event_type"], name="subscription_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner.code} <- {self.event_type} ({self.account.number})"
