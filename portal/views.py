"""Customer portal views: thin, scoped to the user's account, no business rules."""

from __future__ import annotations

import logging
import re
import unicodedata
import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from orders import selectors as order_selectors
from orders.errors import OrderError
from orders.returns import return_request_create
from portal.forms import OrderFilterForm, ReturnRequestForm, ShipmentFilterForm
from shipments import selectors as shipment_selectors
from shipments.models import Document

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


def customer_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a login and an account; show times in the account's time zone.

    The account is put on ``request.account`` for the view and the
    templates. Pages are never cached: they hold one customer's data.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = order_selectors.account_for_user(request.user)
        if account is None:
            return render(request, "portal/no_account.html", status=403)
        request.account = account
        timezone.activate(_zone(account.time_zone))
        try:
            response = view(request, *args, **kwargs)
        finally:
            timezone.deactivate()
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # A bad zone name from the ERP must not break the portal; UTC is
        # labelled on every time, so nothing is shown ambiguously.
        logger.warning("unknown account time zone %r, showing UTC", name)
        return zoneinfo.ZoneInfo("UTC")


def _page(request: HttpRequest, rows: QuerySet) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send visitors to their orders."""
    return redirect("portal:order_list")


@customer_view
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """List the account's orders, searched by number and filtered by status."""
    form = OrderFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "page": None}
        return render(request, "portal/order_list.html", context, status=400)

    orders = order_selectors.order_list_for_account(
        account=request.account, **form.cleaned_data
    )
    context = {"form": form, "page": _page(request, orders)}
    return render(request, "portal/order_list.html", context)


@customer_view
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show an order: lines, shipments, alerts, documents, hold reasons."""
    order = order_selectors.order_get_for_customer(
        account=request.account, number=number
    )
    context = {
        "order": order,
        "returnable": bool(order_selectors.order_returnable_lines(order=order)),
    }
    return render(request, "portal/order_detail.html", context)


@customer_view
@require_GET
def shipment_list(request: HttpRequest) -> HttpResponse:
    """List the account's shipments, searched and filtered."""
    form = ShipmentFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "page": None}
        return render(request, "portal/shipment_list.html", context, status=400)

    shipments = shipment_selectors.shipment_list_for_account(
        account=request.account, **form.cleaned_data
    )
    context = {"form": form, "page": _page(request, shipments)}
    return render(request, "portal/shipment_list.html", context)


@customer_view
@require_GET
def shipment_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show a shipment's tracking: timeline, carrier, ETA, last confirmed milestone."""
    shipment = shipment_selectors.shipment_get_for_customer(
        account=request.account, number=number
    )
    context = {
        "shipment": shipment,
        "last_confirmed": shipment_selectors.shipment_last_confirmed(
            shipment=shipment, now=timezone.now()
        ),
    }
    return render(request, "portal/shipment_detail.html", context)


@customer_view
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    """List the account's documents."""
    documents = shipment_selectors.document_list_for_account(account=request.account)
    context = {"page": _page(request, documents)}
    return render(request, "portal/document_list.html", context)


@customer_view
@require_GET
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    """Stream one of the account's documents from private storage as an attachment."""
    document = shipment_selectors.document_get_for_customer(
        account=request.account, pk=pk
    )
    try:
        content = document.file.open("rb")
    except FileNotFoundError as exc:
        logger.error("document %s is missing from private storage", document.pk)
        raise Http404("No such document.") from exc

    response = FileResponse(
        content,
        as_attachment=True,
        filename=attachment_filename(document),
        content_type=document.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def attachment_filename(document: Document) -> str:
    """Return a download name with no path, control or quoting characters."""
    name = re.split(r"[/\\]", document.filename or "")[-1]
    name = unicodedata.normalize("NFKC", name)
    name = "".join(char if char.isalnum() or char in "._- " else "_" for char in name)
    name = re.sub(r"_+", "_", name).strip(" ._")
    return name[:120] or f"document-{document.pk}"


@customer_view
@require_GET
def return_list(request: HttpRequest) -> HttpResponse:
    """List the account's return requests."""
    returns = order_selectors.return_request_list_for_account(account=request.account)
    context = {"page": _page(request, returns)}
    return render(request, "portal/return_list.html", context)


@customer_view
@require_http_methods(["GET", "POST"])
def return_create(request: HttpRequest) -> HttpResponse:
    """Ask to return delivered lines of an order named by ``?order=``."""
    order = order_selectors.order_get_for_customer(
        account=request.account, number=request.GET.get("order", "")
    )
    lines = order_selectors.order_returnable_lines(order=order)
    form = ReturnRequestForm(request.POST or None, lines=lines)

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
            form.add_service_error(error)
        else:
            return redirect("portal:return_detail", number=created.number)

    context = {"form": form, "order": order}
    status = 400 if form.errors else 200
    return render(request, "portal/return_form.html", context, status=status)


@customer_view
@require_GET
def return_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show one return request and its lines."""
    found = order_selectors.return_request_get_for_customer(
        account=request.account, number=number
    )
    return render(request, "portal/return_detail.html", {"return_request": found})
