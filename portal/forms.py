"""Forms of the customer portal: they check shapes, services check rules."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms

from orders.errors import OrderError
from orders.models import Order, OrderLine
from shipments.models import ShipmentStatus


class OrderFilterForm(forms.Form):
    """Search orders by order or PO number, and filter them by status."""

    q = forms.CharField(label="Order or PO number", max_length=40, required=False)
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Any status"), *Order.Status.choices],
        required=False,
    )


class ShipmentFilterForm(forms.Form):
    """Search shipments and filter them by status and delivery time.

    A plain date for ``delivered_after`` means midnight at its start in the
    account's time zone, which the portal activates for every request.
    """

    q = forms.CharField(
        label="Shipment, order, PO or tracking number", max_length=40, required=False
    )
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Any status"), *ShipmentStatus.choices],
        required=False,
    )
    delivered_after = forms.DateTimeField(
        label="Delivered on or after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ReturnRequestForm(forms.Form):
    """One quantity per returnable order line, and a reason."""

    reason = forms.CharField(
        label="Reason for return",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        lines: Sequence[tuple[OrderLine, Decimal]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lines = [line for line, _limit in lines]
        for line, limit in lines:
            self.fields[self.field_name(line.pk)] = _quantity_field(line, limit)

    @staticmethod
    def field_name(line_id: int) -> str:
        """Return the name of the quantity field of an order line."""
        return f"line_{line_id}"

    def line_fields(self) -> list[forms.BoundField]:
        """Return the bound quantity fields, in line order, for the template."""
        return [self[self.field_name(line.pk)] for line in self.lines]

    def quantities(self) -> dict[int, Decimal]:
        """Return the chosen quantity per order line id (after validation)."""
        return {
            line.pk: self.cleaned_data.get(self.field_name(line.pk)) or Decimal(0)
            for line in self.lines
        }

    def add_service_error(self, error: OrderError) -> None:
        """Show a service's refusal beside the line it is about, or on top."""
        field = self.field_name(error.line_id) if error.line_id else None
        self.add_error(field if field in self.fields else None, error.message)


def _quantity_field(line: OrderLine, limit: Decimal) -> forms.DecimalField:
    # The limit is a hint for the browser and the reader; the service is
    # what enforces it, against the quantities as they are when it runs.
    shown = f"{limit.normalize():f}"
    return forms.DecimalField(
        label=f"Line {line.line_number}: {line.item.sku} {line.item.description}",
        required=False,
        initial=0,
        max_digits=14,
        decimal_places=3,
        help_text=f"up to {shown} {line.unit.code}",
        widget=forms.NumberInput(attrs={"min": "0", "max": shown, "step": "any"}),
    )
