"""Customer accounts, portal memberships, orders and return requests."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse


class CustomerAccount(models.Model):
    """A customer of the ERP; every portal query is scoped to one."""

    class CreditStatus(models.TextChoices):
        OK = "ok", "OK"
        HOLD = "hold", "Credit hold"

    number = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    credit_status = models.CharField(
        max_length=10, choices=CreditStatus.choices, default=CreditStatus.OK
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class Membership(models.Model):
    """A portal user's role in one customer account."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(
        CustomerAccount, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.account.number} ({self.role})"


class Address(models.Model):
    """A ship-to or bill-to address of an account, copied from the ERP."""

    class Kind(models.TextChoices):
        SHIP_TO = "ship_to", "Ship-to"
        BILL_TO = "bill_to", "Bill-to"

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.CASCADE, related_name="addresses"
    )
    code = models.CharField(max_length=30)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SHIP_TO)
    name = models.CharField(max_length=200)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)

    class Meta:
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "code"], name="address_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}"


class Order(models.Model):
    """A sales order copied from the ERP, with the hub's fulfilment progress."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ON_HOLD = "on_hold", "On hold"
        RELEASED = "released", "Released"
        ALLOCATED = "allocated", "Allocated"
        PICKING = "picking", "Picking"
        PACKED = "packed", "Packed"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        INVOICED = "invoiced", "Invoiced"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="orders"
    )
    number = models.CharField(max_length=30, unique=True)
    po_number = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    ship_from = models.ForeignKey(
        "masterdata.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )
    ship_to = models.ForeignKey(
        Address, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    requested_date = models.DateField(null=True, blank=True)
    hold_reasons = models.JSONField(default=list, blank=True)
    erp_flagged = models.BooleanField(
        default=False, help_text="Flagged for customer service in the ERP."
    )
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status"], name="order_account_status"),
            models.Index(
                fields=["account", "-created_at"], name="order_account_created"
            ),
            models.Index(fields=["account", "po_number"], name="order_account_po"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("portal:order_detail", kwargs={"number": self.number})


class OrderLine(models.Model):
    """One line of an order; quantities in the item's base unit."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    item = models.ForeignKey(
        "masterdata.Item", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.ForeignKey(
        "masterdata.Unit", on_delete=models.PROTECT, related_name="+"
    )
    shipped_quantity = models.DecimalField(max_digits=14, decimal_places=3, default=0)

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="order_line_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.line_number}"

    @property
    def short_quantity(self) -> Decimal:
        """Return how much of the line has not shipped, in the base unit."""
        return max(self.quantity - self.shipped_quantity, Decimal(0))


class ReturnRequest(models.Model):
    """A customer's request to send goods back; ERP-owned once authorised."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        AUTHORIZED = "authorized", "Authorized"
        REJECTED = "rejected", "Rejected"
        IN_TRANSIT = "in_transit", "In transit"
        RECEIVED = "received", "Received"
        CREDITED = "credited", "Credited"
        CLOSED = "closed", "Closed"

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="return_requests"
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="return_requests"
    )
    number = models.CharField(max_length=30, unique=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["account", "-created_at"], name="return_account_created"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    """A quantity of one delivered order line to return."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "order_line"], name="return_line_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="return_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_request.number}: {self.quantity} of {self.order_line}"
