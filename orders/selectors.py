"""Reads of customer data, always scoped to one account."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import Http404

from orders.models import CustomerAccount, Order, OrderLine, ReturnLine, ReturnRequest

# Orders whose goods have reached the customer, so lines may be sent back.
RETURNABLE_STATUSES = frozenset({Order.Status.DELIVERED, Order.Status.INVOICED})


def account_for_user(user: AbstractBaseUser | AnonymousUser) -> CustomerAccount | None:
    """Return the account a portal user works in, or None without one.

    A user with several memberships works in the first active account by
    name (then id, so the choice never depends on row order).
    """
    if not user.is_authenticated:
        return None
    membership = (
        user.memberships.select_related("account")
        .filter(account__active=True)
        .order_by("account__name", "account_id")
        .first()
    )
    return membership.account if membership else None


def order_list_for_account(
    *, account: CustomerAccount, q: str | None = None, status: str | None = None
) -> QuerySet[Order]:
    """Return the account's orders, newest first, searched and filtered."""
    orders = Order.objects.filter(account=account).select_related("ship_from")
    if q:
        orders = orders.filter(Q(number__icontains=q) | Q(po_number__icontains=q))
    if status:
        orders = orders.filter(status=status)

    # The primary key breaks ties so pages never repeat or skip a row.
    return orders.order_by("-created_at", "-id")


def order_get_for_customer(*, account: CustomerAccount, number: str) -> Order:
    """Return one of the account's orders with what its page shows, or 404."""
    from shipments.models import Document, ServiceAlert, Shipment

    orders = (
        Order.objects.filter(account=account)
        .select_related("ship_from", "ship_to")
        .prefetch_related(
            Prefetch(
                "lines", queryset=OrderLine.objects.select_related("item", "unit")
            ),
            Prefetch(
                "shipments",
                queryset=Shipment.objects.select_related("carrier").order_by(
                    "created_at", "id"
                ),
            ),
            Prefetch(
                "alerts", queryset=ServiceAlert.objects.filter(cleared_at__isnull=True)
            ),
            Prefetch(
                "documents", queryset=Document.objects.order_by("-created_at", "-id")
            ),
        )
    )
    order = orders.filter(number=number).first()
    if order is None:
        raise Http404("No such order.")
    return order


def order_is_returnable(*, order: Order) -> bool:
    """Return whether the order's goods have reached the customer."""
    return order.status in RETURNABLE_STATUSES


def returnable_quantities(*, order: Order) -> dict[int, Decimal]:
    """Return, per order line id, the shipped quantity not yet requested back.

    Rejected requests give their quantity back; every other request,
    whatever its progress, holds it.
    """
    requested = dict(
        ReturnLine.objects.filter(order_line__order=order)
        .exclude(return_request__status=ReturnRequest.Status.REJECTED)
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values_list("order_line", "total")
    )
    return {
        line.pk: max(
            Decimal(0), line.shipped_quantity - requested.get(line.pk, Decimal(0))
        )
        for line in order.lines.all()
    }


def return_request_list_for_account(
    *, account: CustomerAccount
) -> QuerySet[ReturnRequest]:
    """Return the account's return requests, newest first."""
    return (
        ReturnRequest.objects.filter(account=account)
        .select_related("order")
        .order_by("-created_at", "-id")
    )


def return_request_get_for_customer(
    *, account: CustomerAccount, number: str
) -> ReturnRequest:
    """Return one of the account's return requests with its lines, or 404."""
    lines = ReturnLine.objects.select_related(
        "order_line__item", "order_line__unit"
    ).order_by("order_line__line_number")
    returns = (
        ReturnRequest.objects.filter(account=account)
        .select_related("order")
        .prefetch_related(Prefetch("lines", queryset=lines))
    )
    found = returns.filter(number=number).first()
    if found is None:
        raise Http404("No such return request.")
    return found


def order_returnable_lines(*, order: Order) -> list[tuple[OrderLine, Decimal]]:
    """Return the order's lines that may still be returned, with how much of each.

    Empty while the order's goods have not reached the customer.
    """
    if not order_is_returnable(order=order):
        return []
    available = returnable_quantities(order=order)
    return [
        (line, available[line.pk])
        for line in order.lines.all()
        if available.get(line.pk, Decimal(0)) > 0
    ]
