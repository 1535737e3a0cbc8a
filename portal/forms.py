"""Forms of the customer portal."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from orders.models import Order


class OrderFilterForm(forms.Form):
    """Search by order or PO number, and filter by status."""

    q = forms.CharField(label="Order or PO number", max_length=40, required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Order.Status.choices], required=False
    )


class ReturnRequestForm(forms.Form):
    """One quantity per returnable order line, and a reason."""

    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for return",
    )

    def __init__(self, *args, lines=(), available=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        available = available or {}
        for line in self.lines:
            limit = available.get(line.pk, Decimal(0))
            self.fields[f"line_{line.pk}"] = forms.DecimalField(
                label=f"{line.item.sku} ({line.item.description})",
                min_value=Decimal(0),
                max_value=limit,
                max_digits=14,
                decimal_places=3,
                required=False,
                initial=0,
                help_text=f"up to {limit.normalize()} {line.unit.code}",
            )

    def line_fields(self) -> list:
        """Return the bound quantity fields, in line order, for the template."""
        return [self[f"line_{line.pk}"] for line in self.lines]

    def quantities(self) -> dict[int, Decimal]:
        """Return the chosen quantity per order line id (after validation)."""
        return {
            line.pk: self.cleaned_data.get(f"line_{line.pk}") or Decimal(0)
            for line in self.lines
        }
