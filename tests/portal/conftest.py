"""Two accounts with an order, a shipment, a document and a return each."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from masterdata.models import Item, Unit
from orders.models import CustomerAccount, Order, OrderLine, ReturnLine, ReturnRequest
from shipments.models import Document, Shipment, TrackingEvent
from shipments.services import document_store

PASSWORD = "correct-horse-battery-staple"


@dataclass
class World:
    """What one account owns, for scoping tests."""

    account: CustomerAccount
    order: Order
    shipment: Shipment
    document: Document
    return_request: ReturnRequest


def make_world(account_number: str, suffix: str) -> World:
    account = CustomerAccount.objects.get(number=account_number)
    item = Item.objects.get(sku="SKU-A")
    order = Order.objects.create(
        account=account,
        number=f"SO-{suffix}",
        po_number=f"PO-{suffix}",
        status="delivered",
    )
    line = OrderLine.objects.create(
        order=order,
        line_number=1,
        item=item,
        quantity=Decimal(5),
        unit=Unit.objects.get(code="EA"),
        shipped_quantity=Decimal(5),
    )
    shipment = Shipment.objects.create(
        number=f"SH-{suffix}",
        account=account,
        order=order,
        status="delivered",
        tracking_numbers=[f"TRK-{suffix}"],
        last_actual_at=timezone.now() - dt.timedelta(hours=1),
    )
    TrackingEvent.objects.create(
        shipment=shipment,
        event_key=f"k-{suffix}",
        source="tms",
        status="delivered",
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        city="Columbus",
    )
    document = document_store(
        account_id=account.pk,
        kind="pod",
        number=f"POD-{suffix}",
        attachment={
            "filename": f"pod-{suffix}.pdf",
            "content_type": "application/pdf",
            "content_base64": base64.b64encode(
                b"%PDF-1.4 pod " + suffix.encode()
            ).decode(),
        },
        order=order,
        shipment=shipment,
    )
    rr = ReturnRequest.objects.create(
        account=account, order=order, number=f"RMA-{suffix}", reason="damaged"
    )
    ReturnLine.objects.create(return_request=rr, order_line=line, quantity=Decimal(1))
    return World(account, order, shipment, document, rr)


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def worlds(seeded):
    """Return (ACME's world, ZETA's world) with users alice (ACME) and bob (ZETA)."""
    users = get_user_model().objects.filter(username__in=["alice", "bob"])
    for user in users:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return make_world("ACME", "A1"), make_world("ZETA", "Z1")


@pytest.fixture
def alice(worlds) -> Client:
    return login("alice")


@pytest.fixture
def bob(worlds) -> Client:
    return login("bob")
