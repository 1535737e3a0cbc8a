"""Two accounts, each with a user, an order, a shipment, a document and a return."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from orders.models import CustomerAccount, Order, OrderLine, ReturnRequest
from shipments.models import Document, Shipment
from tests.portal.factories import (
    PASSWORD,
    CustomerAccountFactory,
    DocumentFactory,
    MembershipFactory,
    OrderLineFactory,
    ReturnLineFactory,
    ReturnRequestFactory,
    ShipmentFactory,
    TrackingEventFactory,
)


@dataclass
class World:
    """What one account owns, for scoping tests."""

    account: CustomerAccount
    user: AbstractBaseUser
    order: Order
    line: OrderLine
    shipment: Shipment
    document: Document
    return_request: ReturnRequest


def make_world(account: CustomerAccount, suffix: str) -> World:
    """Give an account one delivered order with a line of 5, shipped and returned 1."""
    line = OrderLineFactory(
        order__account=account,
        order__number=f"SO-{suffix}",
        order__po_number=f"PO-{suffix}",
        line_number=1,
        quantity=Decimal(5),
    )
    order = line.order
    shipment = ShipmentFactory(order=order, number=f"SH-{suffix}", status="delivered")
    TrackingEventFactory(shipment=shipment, status="delivered")
    document = DocumentFactory(shipment=shipment, number=f"POD-{suffix}")
    return_line = ReturnLineFactory(
        return_request=ReturnRequestFactory(order=order, number=f"RMA-{suffix}"),
        order_line=line,
        quantity=Decimal(1),
    )
    user = MembershipFactory(account=account).user
    return World(
        account=account,
        user=user,
        order=order,
        line=line,
        shipment=shipment,
        document=document,
        return_request=return_line.return_request,
    )


def login(user: AbstractBaseUser) -> Client:
    """Return a test client logged in as the user."""
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD) is True
    return client


@pytest.fixture
def acme(db) -> World:
    """Return ACME's world (account in New York time)."""
    account = CustomerAccountFactory(number="ACME", name="Acme Tools")
    return make_world(account, "A1")


@pytest.fixture
def zeta(db) -> World:
    """Return ZETA's world (account in Berlin time)."""
    account = CustomerAccountFactory(
        number="ZETA", name="Zeta Foods", time_zone="Europe/Berlin"
    )
    return make_world(account, "Z1")


@pytest.fixture
def alice(acme) -> Client:
    """Return a client logged in as ACME's user."""
    return login(acme.user)


@pytest.fixture
def bob(zeta) -> Client:
    """Return a client logged in as ZETA's user."""
    return login(zeta.user)
