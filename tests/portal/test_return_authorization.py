"""The ERP's decision on a return request, and the WMS told to expect it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.errors import EventRejected
from integrations.events import EventType
from integrations.handlers import HANDLERS
from integrations.models import OutboxMessage
from orders.models import ReturnRequest
from orders.returns import return_apply_authorized, return_request_create
from tests.portal.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def connections(db):
    ConnectionFactory(code="erp")
    ConnectionFactory(code="wms")


def _requested(world) -> ReturnRequest:
    return return_request_create(
        account=world.account,
        order=world.order,
        lines={world.line.pk: Decimal("2")},
        reason="Arrived damaged",
        user=world.user,
    )


def test_an_authorised_return_tells_the_wms_what_to_expect(acme):
    request = _requested(acme)

    return_apply_authorized(
        data={"return_number": request.number, "rma_number": "ERP-77"}
    )

    request.refresh_from_db()
    expected = OutboxMessage.objects.get(type="return.receipt_expected")
    assert request.status == "authorized"
    assert expected.destination.code == "wms"
    assert expected.payload["return_number"] == request.number
    assert expected.payload["rma_number"] == "ERP-77"
    assert [(line["sku"], line["quantity"]) for line in expected.payload["lines"]] == [
        (acme.line.item.sku, "2")
    ]


def test_a_rejected_return_sends_nothing_to_the_wms(acme):
    request = _requested(acme)

    return_apply_authorized(
        data={"return_number": request.number, "decision": "rejected"}
    )

    request.refresh_from_db()
    assert request.status == "rejected"
    assert not OutboxMessage.objects.filter(type="return.receipt_expected").exists()


def test_a_repeated_or_late_contrary_decision_changes_nothing(acme):
    request = _requested(acme)
    return_apply_authorized(data={"return_number": request.number})

    return_apply_authorized(data={"return_number": request.number})
    return_apply_authorized(
        data={"return_number": request.number, "decision": "rejected"}
    )

    request.refresh_from_db()
    assert request.status == "authorized"
    assert OutboxMessage.objects.filter(type="return.receipt_expected").count() == 1


@pytest.mark.parametrize(
    ("data", "code", "reason"),
    [
        (
            {"return_number": "RMA-999999"},
            "unknown_reference",
            "unknown return request RMA-999999",
        ),
        (
            {"return_number": "RMA-1", "decision": "maybe"},
            "invalid_value",
            "return decision 'maybe' is not authorized or rejected",
        ),
    ],
)
def test_unknown_returns_and_decisions_are_refused_with_a_reason(
    acme, data, code, reason
):
    with pytest.raises(EventRejected) as refused:
        return_apply_authorized(data=data)

    assert (refused.value.code, refused.value.reason) == (code, reason)


def test_the_event_type_has_a_handler():
    assert EventType.RETURN_AUTHORIZED == "return.authorized"
    assert EventType.RETURN_AUTHORIZED in HANDLERS
