"""Inbound 210, 846, 940, 944 and 990 files applied end to end.

Each test stores an X12 file as an inbound message on the demo's X12 file
connection and processes it as a worker would, then checks the records.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import CodeMapping, Connection, InboundMessage
from integrations.seeding import connections_seed, mappings_seed
from integrations.services import inbound_message_accept, inbound_message_process
from masterdata.inventory import inventory_apply_snapshot
from masterdata.models import ItemAvailability, Warehouse
from operations.models import ExceptionCase
from orders.models import Order, ReturnRequest
from shipments.freight import freight_tolerance
from shipments.models import FreightInvoice, ServiceAlert, Shipment
from tests.admin import factories
from tests.integrations.test_x12_inbound_sets import (
    B13_210,
    interchange,
    transaction_set,
)

pytestmark = pytest.mark.django_db

OLD = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def hub(db):
    """Return the X12 connection, with the master data these files name.

    The partner's DC1 maps to DC-EAST. Availability is dated before every
    file below, so that no file is older than what the hub holds.
    """
    connections_seed()
    mappings_seed()
    CodeMapping.objects.create(
        source="edi-x12",
        category=CodeMapping.Category.LOCATION,
        external_code="DC1",
        canonical_value="DC-EAST",
    )
    each = factories.UnitFactory(code="EA")
    case = factories.UnitFactory(code="CS")
    warehouses = [
        factories.WarehouseFactory(code=code) for code in ("DC-EAST", "DC-WEST")
    ]
    for sku in ("SKU-A", "SKU-B"):
        item = factories.ItemFactory(sku=sku, base_unit=each)
        factories.UnitConversionFactory(item=item, from_unit=case, to_unit=each)
        for warehouse in warehouses:
            factories.ItemAvailabilityFactory(
                item=item, warehouse=warehouse, quantity=Decimal(100000), as_of=OLD
            )
    account = factories.CustomerAccountFactory(number="ACME")
    factories.AddressFactory(account=account, code="MAIN")
    return Connection.objects.get(code="edi-x12")


def deliver_x12(raw: bytes) -> InboundMessage:
    """Store an X12 file on the file-drop connection and process it at once."""
    message, _ = inbound_message_accept(
        connection=Connection.objects.get(code="edi-x12"),
        message_id=f"file-{uuid.uuid4()}",
        body=raw,
        content_type="application/edi-x12",
    )
    inbound_message_process(message_id=message.pk)
    message.refresh_from_db()
    return message


def _shipment(number: str = "SH-210", **fields) -> Shipment:
    fields.setdefault("freight_estimate", Decimal("1482.75"))
    fields.setdefault("freight_currency", "USD")
    return factories.ShipmentFactory(number=number, **fields)


def _open_cases(kind: str) -> list[ExceptionCase]:
    return list(ExceptionCase.objects.filter(kind=kind, state="open"))


# --- 210 freight invoices -----------------------------------------------------


def test_b13_invoice_is_stored_linked_and_reconciles_with_no_variance(hub):
    shipment = _shipment(tracking_numbers=["PRO4455"])

    message = deliver_x12(interchange(B13_210))

    invoice = FreightInvoice.objects.get()
    assert (message.state, message.error) == ("processed", "")
    assert (invoice.carrier_scac, invoice.invoice_number) == ("ABCD", "INV-7781")
    assert invoice.shipment == shipment
    assert invoice.amount == Decimal("1482.75")
    assert (invoice.estimate, invoice.variance) == (Decimal("1482.75"), Decimal(0))
    assert invoice.reconciliation == "matched"
    assert list(invoice.lines.values_list("rate", "charge", "charge_code")) == [
        (Decimal("2.35"), Decimal("1175.00"), ""),
        (None, Decimal("307.75"), "FUE"),
    ]
    assert ExceptionCase.objects.count() == 0


def test_b13_decimal_point_in_an_n2_element_holds_the_invoice_unstored(hub):
    _shipment(tracking_numbers=["PRO4455"])
    body = [segment.replace("*148275****", "*1482.75****") for segment in B13_210]

    message = deliver_x12(interchange(body))

    assert message.state == "needs_attention"
    assert message.error == (
        "X12 210 ST 0001: B307 '1482.75' is not an N2 number (segment B3 at "
        "position 2, element position 7): a syntax error, 997 AK4 6 (invalid "
        "character in data element); the document is held"
    )
    assert FreightInvoice.objects.count() == 0
    [case] = ExceptionCase.objects.filter(inbound_message=message)
    assert (case.kind, case.reason_code) == ("invalid_message", "invalid_value")


@pytest.mark.parametrize(
    ("tolerance", "estimate", "reconciliation"),
    [
        ("2%", "1455.00", "matched"),  # 27.75 against 29.10
        ("2%", "1450.00", "variance"),  # 32.75 against 29.00
        ("5.00", "1477.75", "matched"),  # exactly the tolerance is within it
        ("5.00", "1477.74", "variance"),
        ("5.00", "1487.76", "variance"),  # billed 5.01 less than estimated
    ],
)
def test_variance_over_the_tolerance_opens_a_freight_variance_case(
    hub, settings, tolerance, estimate, reconciliation
):
    settings.WAYBILL_FREIGHT_TOLERANCE = tolerance
    shipment = _shipment(
        tracking_numbers=["PRO4455"], freight_estimate=Decimal(estimate)
    )

    deliver_x12(interchange(B13_210))

    invoice = FreightInvoice.objects.get()
    cases = _open_cases("freight_variance")
    assert invoice.reconciliation == reconciliation
    assert invoice.variance == Decimal("1482.75") - Decimal(estimate)
    assert len(cases) == (reconciliation == "variance")
    if cases:
        assert cases[0].shipment == shipment
        assert cases[0].order == shipment.order


def test_variance_case_says_what_was_billed_and_estimated(hub):
    _shipment(tracking_numbers=["PRO4455"], freight_estimate=Decimal("1450.00"))

    deliver_x12(interchange(B13_210))

    [case] = _open_cases("freight_variance")
    assert case.title == (
        "Freight invoice ABCD INV-7781 for SH-210: billed 1482.75, estimated "
        "1450.00 (+32.75, tolerance 29.00)"
    )
    assert case.dedupe_key == "freight_variance:ABCD:INV-7781"


def test_default_tolerance_is_two_percent_of_the_estimate(settings):
    del settings.WAYBILL_FREIGHT_TOLERANCE

    assert freight_tolerance(Decimal("1450.00")) == Decimal("29.00")


def test_invoice_in_another_currency_than_the_estimate_is_a_variance(hub):
    _shipment(tracking_numbers=["PRO4455"], freight_currency="CAD")

    deliver_x12(interchange(B13_210))

    [case] = _open_cases("freight_variance")
    assert FreightInvoice.objects.get().reconciliation == "variance"
    assert case.title.endswith("billed in USD, estimated in CAD")


def test_invoice_for_no_known_shipment_is_kept_and_opens_a_reconciliation_case(hub):
    message = deliver_x12(interchange(B13_210))

    invoice = FreightInvoice.objects.get()
    [case] = _open_cases("freight_reconciliation")
    assert message.state == "processed"
    assert (invoice.shipment, invoice.reconciliation) == (None, "unmatched")
    assert case.title == "Freight invoice ABCD INV-7781 matches no shipment"


def test_invoice_for_a_shipment_without_estimate_asks_for_reconciliation(hub):
    _shipment(tracking_numbers=["PRO4455"], freight_estimate=None)

    deliver_x12(interchange(B13_210))

    [case] = _open_cases("freight_reconciliation")
    assert FreightInvoice.objects.get().reconciliation == "no_estimate"
    assert case.title == (
        "Freight invoice ABCD INV-7781 for SH-210 has no freight estimate to compare"
    )


def test_invoice_for_a_fallback_shipment_lands_on_its_fallback_case(hub):
    shipment = _shipment(tracking_numbers=["PRO4455"], freight_estimate=None)
    ExceptionCase.objects.create(
        kind="freight_reconciliation",
        dedupe_key=f"fallback:{shipment.number}",
        title="SH-210 shipped on fallback carrier ABCD without a TMS rate",
        shipment=shipment,
    )

    deliver_x12(interchange(B13_210))

    [case] = _open_cases("freight_reconciliation")
    assert case.dedupe_key == "fallback:SH-210"
    assert case.title == (
        "SH-210 shipped on fallback carrier ABCD: invoiced 1482.75 USD"
    )
    assert FreightInvoice.objects.get().reconciliation == "no_estimate"


def test_invoice_links_to_the_shipment_its_bill_of_lading_names(hub):
    shipment = _shipment("SH-BOL-1", freight_estimate=Decimal("50.00"))
    body = transaction_set(
        "210",
        "B3**INV-2*PRO-X*CC**20250305*5000****RDWY",
        "N9*BM*SH-BOL-1",
        "LX*1",
        "L1*1*50*FR*5000",
    )

    deliver_x12(interchange(body))

    invoice = FreightInvoice.objects.get()
    assert (invoice.shipment, invoice.bol_number) == (shipment, "SH-BOL-1")
    assert invoice.reconciliation == "matched"


def test_the_same_invoice_sent_twice_is_stored_once(hub):
    _shipment(tracking_numbers=["PRO4455"])

    first = deliver_x12(interchange(B13_210, control=801))
    second = deliver_x12(interchange(B13_210, control=802))

    assert (first.state, second.state) == ("processed", "processed")
    assert FreightInvoice.objects.count() == 1


def test_the_same_invoice_number_with_another_amount_waits_for_a_person(hub):
    _shipment(tracking_numbers=["PRO4455"])
    changed = [
        segment.replace("148275", "148375").replace("30775", "30875")
        for segment in B13_210
    ]

    deliver_x12(interchange(B13_210, control=801))
    second = deliver_x12(interchange(changed, control=802))

    assert second.state == "needs_attention"
    assert second.error == (
        "freight.invoiced INV-7781: freight invoice ABCD INV-7781 was already "
        "recorded for 1482.75, now it says 1483.75"
    )
    assert FreightInvoice.objects.get().amount == Decimal("1482.75")


def test_an_amount_too_large_to_store_is_refused_with_its_reason(hub):
    body = transaction_set(
        "210", "B3**INV-9**PP**20250305*1000000000000****RDWY", "L1*1***1000000000000"
    )

    message = deliver_x12(interchange(body))

    assert message.state == "needs_attention"
    assert message.error == (
        "freight.invoiced INV-9: amount 10000000000.00 is too large"
    )
    assert FreightInvoice.objects.count() == 0


# --- 846 inventory snapshots ----------------------------------------------------


def _846(*lines: str, stamp: str = "20250305*1015", control: int = 777) -> bytes:
    body = transaction_set(
        "846", f"BIA*00*DD*SNAP*{stamp}", "N1*WH*EAST DC*91*DC1", *lines
    )
    return interchange(body, functional_id="IB", control=control)


def _available(sku: str, warehouse: str = "DC-EAST") -> Decimal:
    return ItemAvailability.objects.get(
        item__sku=sku, warehouse__code=warehouse
    ).quantity


def test_846_snapshot_replaces_availability_and_flags_what_disagrees(hub):
    raw = _846("LIN*1*SK*SKU-A", "QTY*33*100*EA", "LIN*2*SK*SKU-B", "QTY*17*5*CA")

    message = deliver_x12(raw)

    row = ItemAvailability.objects.get(item__sku="SKU-A", warehouse__code="DC-EAST")
    assert message.state == "processed"
    assert (row.quantity, row.as_of) == (
        Decimal("100"),
        dt.datetime(2025, 3, 5, 10, 15, tzinfo=dt.UTC),
    )
    assert _available("SKU-B") == Decimal("60")  # 5 cases of 12
    assert _available("SKU-A", "DC-WEST") == Decimal("100000")
    assert sorted(case.title for case in _open_cases("inventory_variance")) == [
        "Inventory variance for SKU-A at DC-EAST: hub held 100000, WMS reports "
        "100 (-99900)",
        "Inventory variance for SKU-B at DC-EAST: hub held 100000, WMS reports "
        "60 (-99940)",
    ]


def test_a_later_snapshot_that_agrees_resolves_the_variance_case(hub):
    deliver_x12(_846("LIN*1*SK*SKU-A", "QTY*33*100*EA", control=1))

    deliver_x12(_846("LIN*1*SK*SKU-A", "QTY*33*100*EA", stamp="20250306", control=2))

    assert _open_cases("inventory_variance") == []
    assert ExceptionCase.objects.get(kind="inventory_variance").state == "resolved"


def test_an_older_snapshot_arriving_late_never_moves_availability_back(hub):
    deliver_x12(_846("LIN*1*SK*SKU-A", "QTY*33*100*EA", stamp="20250306", control=1))

    deliver_x12(_846("LIN*1*SK*SKU-A", "QTY*33*7*EA", stamp="20250305", control=2))

    assert _available("SKU-A") == Decimal("100")


def test_unknown_items_are_left_out_and_listed_in_one_case(hub):
    message = deliver_x12(
        _846("LIN*1*SK*SKU-A", "QTY*33*90*EA", "LIN*2*SK*NOPE-1", "QTY*33*4*EA")
    )

    [case] = _open_cases("unknown_reference")
    assert message.state == "processed"
    assert _available("SKU-A") == Decimal("90")
    assert case.title == (
        "Inventory snapshot at DC-EAST: 1 lines left out (unknown item NOPE-1)"
    )


def test_unmapped_warehouse_holds_the_snapshot_for_a_mapping(hub):
    raw = _846("LIN*1*SK*SKU-A", "QTY*33*1*EA").replace(b"*91*DC1", b"*91*DC9")

    message = deliver_x12(raw)

    assert message.state == "needs_attention"
    assert message.error == "unmapped X12 location code DC9 (partner PARTNER1)"
    assert _available("SKU-A") == Decimal("100000")


def test_snapshot_queries_do_not_grow_with_its_size(db):
    for code in ("DC-Q1", "DC-Q2"):
        factories.WarehouseFactory(code=code)
    unit = factories.UnitFactory(code="EA")
    skus = [factories.ItemFactory(base_unit=unit).sku for _ in range(40)]

    def apply(warehouse: str, count: int, day: int) -> int:
        items = [{"sku": sku, "quantity": "5", "unit": "EA"} for sku in skus[:count]]
        data = {"warehouse": warehouse, "as_of": f"2025-03-{day:02d}T00:00:00+00:00"}
        with CaptureQueriesContext(connection) as queries:
            inventory_apply_snapshot(data={**data, "items": items})
        return len(queries)

    created = apply("DC-Q1", 2, 1), apply("DC-Q2", 40, 1)
    updated = apply("DC-Q1", 2, 2), apply("DC-Q2", 40, 2)

    assert created[0] == created[1]
    assert updated[0] == updated[1]
    assert ItemAvailability.objects.filter(warehouse__code="DC-Q2").count() == 40


# --- 944 receipts ------------------------------------------------------------------


def _944(*extra: str, day: str = "20250305", control: int = 777) -> bytes:
    body = transaction_set(
        "944",
        f"W17*F*{day}*WR-5*TR-9",
        "N1*WH*EAST DC*91*DC1",
        *extra,
        "W07*10*EA**SK*SKU-A",
        "W07*1*CA**SK*SKU-B",
        "W14*11",
    )
    return interchange(body, functional_id="RE", control=control)


def test_944_receipt_adds_stock_once_however_often_it_is_processed(hub):
    message = deliver_x12(_944())
    message.state = "received"
    message.save(update_fields=["state"])
    inbound_message_process(message_id=message.pk)

    assert _available("SKU-A") == Decimal("100010")
    assert _available("SKU-B") == Decimal("100012")


def test_receipt_older_than_the_last_snapshot_is_already_counted(hub):
    ItemAvailability.objects.update(as_of=dt.datetime(2025, 3, 6, tzinfo=dt.UTC))

    message = deliver_x12(_944(day="20250305"))

    assert message.state == "processed"
    assert _available("SKU-A") == Decimal("100000")


def test_receipt_with_an_unknown_item_adds_nothing_until_fixed(hub):
    raw = _944().replace(b"SK*SKU-B", b"SK*SKU-Z")

    message = deliver_x12(raw)

    assert message.state == "needs_attention"
    assert message.error == "inventory.received WR-5: unknown item SKU-Z"
    assert _available("SKU-A") == Decimal("100000")


def test_944_naming_an_rma_marks_the_return_received(hub):
    request = factories.ReturnRequestFactory(number="RMA-000042", status="authorized")

    message = deliver_x12(_944("N9*RZ*RMA-000042"))

    request.refresh_from_db()
    assert message.state == "processed"
    assert request.status == ReturnRequest.Status.RECEIVED
    assert _available("SKU-A") == Decimal("100000")


def test_goods_of_a_rejected_return_wait_for_a_person(hub):
    factories.ReturnRequestFactory(number="RMA-000042", status="rejected")

    message = deliver_x12(_944("N9*RZ*RMA-000042"))

    assert message.state == "needs_attention"
    assert message.error == (
        "return.received RMA-000042: return RMA-000042 was rejected, yet "
        "warehouse DC-EAST reports receiving it (receipt WR-5)"
    )


# --- 990 tender responses ---------------------------------------------------------


def _990(action: str, *extra: str) -> bytes:
    body = transaction_set("990", f"B1*RDWY*SH-9001*20250305*{action}", *extra)
    return interchange(body, functional_id="GF")


def test_accepted_tender_moves_the_shipment_to_carrier_assigned(hub):
    shipment = _shipment("SH-9001")

    message = deliver_x12(_990("A"))

    shipment.refresh_from_db()
    assert message.state == "processed"
    assert shipment.status == "carrier_assigned"
    assert shipment.events.get().description == "Load tender accepted by RDWY"


def test_accepted_tender_records_the_carrier_and_its_pro_once(hub):
    factories.CarrierFactory(scac="RDWY", name="Roadway")
    shipment = _shipment("SH-9001", carrier=None, tracking_numbers=[])

    deliver_x12(_990("A", "N9*CN*PRO778899"))
    deliver_x12(_990("A", "N9*CN*PRO778899", "N9*ZZ*RESENT"))

    shipment.refresh_from_db()
    assert shipment.carrier.scac == "RDWY"
    assert shipment.tracking_numbers == ["PRO778899"]


def test_declined_tender_raises_an_alert_and_a_case(hub):
    shipment = _shipment("SH-9001")

    deliver_x12(_990("D", "V9*DEC*******EQU"))

    shipment.refresh_from_db()
    [case] = _open_cases("delivery_exception")
    assert (shipment.status, shipment.exception_reason) == ("exception", "carrier")
    assert ServiceAlert.objects.get(shipment=shipment).reason_code == "carrier"
    assert case.detail == "Load tender declined by RDWY (reason EQU)"


# --- 940 and 204 ------------------------------------------------------------------


def test_940_releases_the_order_to_the_warehouse(hub):
    body = transaction_set(
        "940",
        "W05*N*SO-940-1*PO-77",
        "N1*DE*ACME RETAIL*91*ACME",
        "N1*ST*ACME DC*91*MAIN",
        "N1*WH*EAST DC*91*DC1",
        "G62*10*20301231",
        "LX*1",
        "W01*2*CA**SK*SKU-A",
    )

    message = deliver_x12(interchange(body, functional_id="OW"))

    order = Order.objects.get(number="SO-940-1")
    assert message.state == "processed"
    assert (order.status, order.po_number) == ("released", "PO-77")
    assert order.ship_from == Warehouse.objects.get(code="DC-EAST")
    assert list(order.lines.values_list("item__sku", "quantity")) == [
        ("SKU-A", Decimal("24.000"))
    ]


def test_204_is_quarantined_with_its_reason_and_a_case(hub):
    body = transaction_set("204", "B2**RDWY**SH-1**PP")

    message = deliver_x12(interchange(body, functional_id="SM"))

    [case] = ExceptionCase.objects.filter(inbound_message=message)
    assert message.state == "needs_attention"
    assert message.error.endswith("so the hub accepts none from a partner")
    assert case.reason_code == "unsupported_document"
