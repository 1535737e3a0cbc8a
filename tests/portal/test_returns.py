"""The return request service: typed refusals, numbering, the ERP request."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from integrations.models import OutboxMessage
from orders import errors
from orders.models import Order, ReturnRequest
from orders.returns import return_request_create
from tests.portal.factories import ConnectionFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def erp(db):
    """Return the ERP connection authorisation requests go to."""
    return ConnectionFactory(code="erp")


def create(world, lines, *, account=None, order=None):
    return return_request_create(
        account=account or world.account,
        order=order or world.order,
        lines=lines,
        reason="Arrived damaged",
        user=world.user,
    )


def test_error_codes_are_stable():
    codes = {
        cls.__name__: cls.code
        for cls in (
            errors.OrderError,
            errors.ReturnNotAllowed,
            errors.ReturnLinesMissing,
            errors.ReturnLineUnknown,
            errors.ReturnQuantityInvalid,
            errors.ReturnQuantityExceeded,
        )
    }

    assert codes == {
        "OrderError": "order_error",
        "ReturnNotAllowed": "return_not_allowed",
        "ReturnLinesMissing": "return_lines_missing",
        "ReturnLineUnknown": "return_line_unknown",
        "ReturnQuantityInvalid": "return_quantity_invalid",
        "ReturnQuantityExceeded": "return_quantity_exceeded",
    }


def test_creates_the_request_and_one_authorisation_message(acme, erp):
    created = create(acme, {acme.line.pk: Decimal("4")})

    message = OutboxMessage.objects.get()
    assert created.number == f"RMA-{created.pk:06d}"
    assert created.status == ReturnRequest.Status.REQUESTED
    assert (message.destination, message.type, message.subject) == (
        erp,
        "return.authorization_requested",
        created.number,
    )
    assert message.payload == {
        "return_number": created.number,
        "order_number": "SO-A1",
        "account_number": "ACME",
        "reason": "Arrived damaged",
        "requested_at": created.created_at.isoformat(),
        "lines": [
            {
                "line_number": 1,
                "sku": acme.line.item.sku,
                "quantity": "4",
                "unit": "EA",
            }
        ],
    }


def test_another_accounts_order_is_refused_as_not_found(acme, zeta):
    with pytest.raises(errors.ReturnNotAllowed, match=r"^Order SO-Z1 was not found\.$"):
        create(acme, {zeta.line.pk: Decimal(1)}, order=zeta.order)

    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    "status", [Order.Status.SHIPPED, Order.Status.ON_HOLD, Order.Status.CLOSED]
)
def test_orders_not_delivered_or_invoiced_are_refused(acme, status):
    Order.objects.filter(pk=acme.order.pk).update(status=status)
    acme.order.refresh_from_db()

    with pytest.raises(
        errors.ReturnNotAllowed,
        match=r"^Order SO-A1 cannot be returned until it is delivered\.$",
    ):
        create(acme, {acme.line.pk: Decimal(1)})


def test_invoiced_orders_may_be_returned(acme):
    Order.objects.filter(pk=acme.order.pk).update(status=Order.Status.INVOICED)
    acme.order.refresh_from_db()

    created = create(acme, {acme.line.pk: Decimal(1)})

    assert [line.quantity for line in created.lines.all()] == [Decimal("1.000")]


def test_negative_quantity_is_refused_on_its_line(acme):
    with pytest.raises(
        errors.ReturnQuantityInvalid, match=r"^Enter a positive quantity to return\.$"
    ) as raised:
        create(acme, {acme.line.pk: Decimal(-1)})

    assert raised.value.line_id == acme.line.pk


def test_all_zero_quantities_are_refused(acme):
    with pytest.raises(
        errors.ReturnLinesMissing,
        match=r"^Enter a quantity to return for at least one line\.$",
    ):
        create(acme, {acme.line.pk: Decimal(0)})


def test_line_of_another_order_is_refused(acme):
    stranger = OrderLineFactory(order__account=acme.account)

    with pytest.raises(
        errors.ReturnLineUnknown, match=r"^A line is not on order SO-A1\.$"
    ):
        create(acme, {stranger.pk: Decimal(1)})

    assert ReturnRequest.objects.count() == 1


def test_more_than_shipped_less_requested_is_refused_with_the_limit(acme):
    with pytest.raises(
        errors.ReturnQuantityExceeded,
        match=rf"^Line 1 \({acme.line.item.sku}\): at most 4 EA can be returned\.$",
    ) as raised:
        create(acme, {acme.line.pk: Decimal("4.001")})

    assert raised.value.code == "return_quantity_exceeded"
    assert raised.value.line_id == acme.line.pk
    assert (ReturnRequest.objects.count(), OutboxMessage.objects.count()) == (1, 0)


def test_rejected_requests_give_their_quantity_back(acme):
    ReturnRequest.objects.filter(pk=acme.return_request.pk).update(
        status=ReturnRequest.Status.REJECTED
    )

    created = create(acme, {acme.line.pk: Decimal(5)})

    assert [line.quantity for line in created.lines.all()] == [Decimal("5.000")]


def test_quantity_only_partly_shipped_caps_at_what_shipped(acme):
    partial = OrderLineFactory(
        order=acme.order, line_number=2, quantity=Decimal(10), shipped_quantity=2
    )

    with pytest.raises(errors.ReturnQuantityExceeded, match=r"at most 2 EA"):
        create(acme, {partial.pk: Decimal(3)})


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_cannot_both_take_the_last_units(acme):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def request_four() -> None:
        try:
            barrier.wait(timeout=5)
            create(acme, {acme.line.pk: Decimal(4)})
            outcomes.append("created")
        except errors.ReturnQuantityExceeded as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=request_four) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(outcomes) == ["created", "return_quantity_exceeded"]
    assert OutboxMessage.objects.count() == 1
