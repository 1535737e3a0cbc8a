"""Customer portal views: thin, scoped to the user's account, no business rules."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from orders import selectors as order_selectors
from orders.errors import OrderError
from orders.returns import return_request_create
from portal.forms import OrderFilterForm, ReturnRequestForm
from shipments import selectors as shipment_selectors
from shipments.models import ShipmentStatus

PAGE_SIZE = 25
# After this long without an actual milestone, the tracking page says the
# shipment has not been updated recently (it still shows the last one).
QUIET_AFTER = dt.timedelta(hours=48)


def customer_view(view: Callable) -> Callable:
    """Require a login and an account; show times in the account's time zone."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = order_selectors.account_for_user(request.user)
        if account is None:
            raise PermissionDenied("Your login is not linked to a customer account.")
        request.account = account
        timezone.activate(zoneinfo.ZoneInfo(account.time_zone))
        try:
            response = view(request, *args, **kwargs)
        finally:
            timezone.deactivate()
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def home(request: HttpRequest) -> HttpResponse:
    """Send visitors to their orders."""
    return redirect("portal:order_list")


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@customer_view
def order_list(request: HttpRequest) -> HttpResponse:
    """List the account's orders with search and a status filter."""
    form = OrderFilterForm(request.GET or None)
    page = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        criteria = form.cleaned_data if form.is_bound else {}
        orders = order_selectors.order_list_for_account(
            account=request.account,
            q=criteria.get("q", ""),
            status=criteria.get("status", ""),
        )
        page = _page(request, orders)
    context = {"form": form, "page": page}
    return render(request, "portal/order_list.html", context, status=status)


@customer_view
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show an order: lines, shipments, alerts, documents, hold reasons."""
    order = order_selectors.order_get_for_customer(
        account=request.account, number=number
    )
    returnable = order.status in order_selectors.RETURNABLE_STATUSES
    return render(
        request, "portal/order_detail.html", {"order": order, "returnable": returnable}
    )


@customer_view
def shipment_list(request: HttpRequest) -> HttpResponse:
    """List the account's shipments."""
    shipments = shipment_selectors.shipment_list_for_account(account=request.account)
    return render(
        request, "portal/shipment_list.html", {"page": _page(request, shipments)}
    )


@customer_view
def shipment_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show a shipment's tracking: timeline, carrier, ETA, last confirmed milestone."""
    shipment = shipment_selectors.shipment_get_for_customer(
        account=request.account, number=number
    )
    quiet = (
        shipment.last_actual_at is not None
        and shipment.status != ShipmentStatus.DELIVERED
        and timezone.now() - shipment.last_actual_at > QUIET_AFTER
    )
    last_actual = next(
        (e for e in reversed(shipment.events.all()) if e.kind == "actual"), None
    )
    context = {"shipment": shipment, "quiet": quiet, "last_actual": last_actual}
    return render(request, "portal/shipment_detail.html", context)


@customer_view
def document_list(request: HttpRequest) -> HttpResponse:
    """List the account's documents."""
    documents = shipment_selectors.document_list_for_account(account=request.account)
    return render(
        request, "portal/document_list.html", {"page": _page(request, documents)}
    )


@customer_view
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    """Stream one of the account's documents from private storage as an attachment."""
    document = shipment_selectors.document_get_for_customer(
        account=request.account, pk=pk
    )
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.filename,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@customer_view
def return_list(request: HttpRequest) -> HttpResponse:
    """List the account's return requests."""
    returns = order_selectors.return_request_list_for_account(account=request.account)
    return render(request, "portal/return_list.html", {"page": _page(request, returns)})


@customer_view
@require_http_methods(["GET", "POST"])
def return_create(request: HttpRequest) -> HttpResponse:
    """Ask to return delivered lines of an order."""
    order = order_selectors.order_get_for_customer(
        account=request.account, number=request.GET.get("order", "")
    )
    available = order_selectors.returnable_quantities(order=order)
    lines = [line for line in order.lines.all() if available.get(line.pk)]
    form = ReturnRequestForm(request.POST or None, lines=lines, available=available)
    if request.method == "POST" and form.is_valid():
        try:
            created = return_request_create(
                account=request.account,
                order=order,
                lines=form.quantities(),
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            return redirect("portal:return_detail", number=created.number)
    context = {"form": form, "order": order}
    status = 400 if form.errors else 200
    return render(request, "portal/return_form.html", context, status=status)


@customer_view
def return_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show one return request and its lines."""
    found = order_selectors.return_request_get_for_customer(
        account=request.account, number=number
    )
    return render(request, "portal/return_detail.html", {"return_request": found})
