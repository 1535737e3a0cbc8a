"""Small factories: one valid row of every model the admin shows."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from api.models import WebhookSubscription
from integrations.models import (
    AckWatch,
    CanonicalEvent,
    CircuitBreaker,
    CodeMapping,
    Connection,
    InboundMessage,
    OutboxMessage,
    X12ControlNumbers,
)
from masterdata.models import (
    Carrier,
    CarrierService,
    Item,
    ItemAvailability,
    Unit,
    UnitConversion,
    Warehouse,
)
from operations.models import ExceptionCase, LaneFallbackRule
from orders.models import (
    Address,
    CustomerAccount,
    Membership,
    Order,
    OrderLine,
    ReturnLine,
    ReturnRequest,
)
from shipments.models import (
    Document,
    EtaRevision,
    FreightInvoice,
    FreightInvoiceLine,
    Package,
    ServiceAlert,
    Shipment,
    TrackingEvent,
)

NOW = dt.datetime(2025, 3, 4, 12, 0, tzinfo=dt.UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"group {n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"U{n}")
    name = factory.Sequence(lambda n: f"unit {n}")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    description = "Widget"
    base_unit = factory.SubFactory(UnitFactory)
    weight_kg = Decimal("1.500")
    length_cm = Decimal("10.0")
    width_cm = Decimal("10.0")
    height_cm = Decimal("10.0")


class UnitConversionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UnitConversion

    item = factory.SubFactory(ItemFactory)
    from_unit = factory.SubFactory(UnitFactory)
    to_unit = factory.SelfAttribute("item.base_unit")
    factor = Decimal("12")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"DC-{n}")
    name = "East DC"
    time_zone = "America/New_York"
    country = "US"


class ItemAvailabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ItemAvailability

    item = factory.SubFactory(ItemFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    quantity = Decimal("40")
    as_of = NOW


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier

    scac = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.Sequence(lambda n: f"Carrier {n}")


class CarrierServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarrierService

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"GND{n}")
    name = "Ground"


class CustomerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAccount

    number = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(CustomerAccountFactory)


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    account = factory.SubFactory(CustomerAccountFactory)
    code = factory.Sequence(lambda n: f"ST-{n}")
    name = "Dock 4"
    line1 = "1 Harbour Road"
    city = "Albany"
    country = "US"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    account = factory.SubFactory(CustomerAccountFactory)
    number = factory.Sequence(lambda n: f"SO-{n}")
    ship_from = factory.SubFactory(WarehouseFactory)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    item = factory.SubFactory(ItemFactory)
    quantity = Decimal("5")
    unit = factory.SelfAttribute("item.base_unit")


class ReturnRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnRequest

    order = factory.SubFactory(OrderFactory)
    account = factory.SelfAttribute("order.account")
    number = factory.Sequence(lambda n: f"RMA-{n}")
    reason = "Damaged in transit"


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnLine

    return_request = factory.SubFactory(ReturnRequestFactory)
    order_line = factory.SubFactory(
        OrderLineFactory, order=factory.SelfAttribute("..return_request.order")
    )
    quantity = Decimal("1")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    number = factory.Sequence(lambda n: f"SH-{n}")
    order = factory.SubFactory(OrderFactory)
    account = factory.SelfAttribute("order.account")
    carrier = factory.SubFactory(CarrierFactory)
    tracking_numbers = factory.LazyAttribute(lambda s: [f"1Z{s.number}"])


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    shipment = factory.SubFactory(ShipmentFactory)
    sscc = factory.Sequence(lambda n: f"00340123450000{n:06d}")
    weight_kg = Decimal("2.250")


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    shipment = factory.SubFactory(ShipmentFactory)
    event_key = factory.Sequence(lambda n: f"carrier/ev-{n}")
    source = "carrier"
    status = "in_transit"
    external_code = "X6"
    occurred_at = NOW


class EtaRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EtaRevision

    shipment = factory.SubFactory(ShipmentFactory)
    eta = NOW + dt.timedelta(days=2)
    source = "tms"


class ServiceAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAlert

    shipment = factory.SubFactory(ShipmentFactory)
    order = factory.SelfAttribute("shipment.order")
    account = factory.SelfAttribute("shipment.account")
    reason_code = "weather"
    message = "Delayed by weather"
    raised_at = NOW


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    shipment = factory.SubFactory(ShipmentFactory)
    order = factory.SelfAttribute("shipment.order")
    account = factory.SelfAttribute("shipment.account")
    kind = Document.Kind.POD
    number = factory.Sequence(lambda n: f"POD-{n}")
    file = factory.django.FileField(data=b"%PDF-1.4 pod", filename="pod.pdf")
    filename = "pod.pdf"
    sha256 = hashlib.sha256(b"%PDF-1.4 pod").hexdigest()
    size = 12
    content_type = "application/pdf"


class FreightInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FreightInvoice

    source = "edi-x12"
    carrier_scac = "ABCD"
    invoice_number = factory.Sequence(lambda n: f"INV-{n}")
    pro_number = factory.Sequence(lambda n: f"PRO{n}")
    shipment = factory.SubFactory(ShipmentFactory)
    invoiced_on = NOW.date()
    amount = Decimal("1482.75")
    currency = "USD"
    reconciliation = FreightInvoice.Reconciliation.NO_ESTIMATE


class FreightInvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FreightInvoiceLine

    invoice = factory.SubFactory(FreightInvoiceFactory)
    line_number = 1
    rate = Decimal("2.35")
    rate_qualifier = "PH"
    charge = Decimal("1175.00")


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    code = factory.Sequence(lambda n: f"conn-{n}")
    name = factory.Sequence(lambda n: f"Connection {n}")
    kind = Connection.Kind.ERP
    base_url = "http://127.0.0.1:8101/hub"


class CircuitBreakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CircuitBreaker

    connection = factory.SubFactory(ConnectionFactory)
    state = CircuitBreaker.State.OPEN
    failures = 5


class X12ControlNumbersFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = X12ControlNumbers

    connection = factory.SubFactory(ConnectionFactory)
    last_interchange = 41
    last_group = 17


class AckWatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AckWatch

    connection = factory.SubFactory(ConnectionFactory)
    interchange_control = factory.Sequence(lambda n: f"{n + 1:09d}")
    group_control = factory.Sequence(lambda n: str(n + 1))
    functional_id = "OW"
    transaction_sets = ["0001"]
    sent_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=4))


class InboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundMessage

    connection = factory.SubFactory(ConnectionFactory)
    message_id = factory.Sequence(lambda n: f"msg-{n}")
    body = b'{"hello": "world"}'
    sha256 = factory.LazyAttribute(lambda m: hashlib.sha256(m.body).hexdigest())
    content_type = "application/json"


class CanonicalEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CanonicalEvent

    source = "erp"
    event_id = factory.Sequence(lambda n: f"ev-{n}")
    type = "order.released"
    subject = "SO-1"
    time = NOW
    data = factory.LazyFunction(lambda: {"number": "SO-1"})
    correlation_id = "SO-1"
    inbound_message = factory.SubFactory(InboundMessageFactory)


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    destination = factory.SubFactory(ConnectionFactory)
    type = "order.fulfilment_requested"
    subject = "SO-1"
    payload = factory.LazyFunction(lambda: {"number": "SO-1"})
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    correlation_id = "SO-1"
    next_attempt_at = factory.LazyFunction(timezone.now)


class CodeMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CodeMapping

    source = "carrier-crx"
    category = CodeMapping.Category.SHIPMENT_STATUS
    external_code = factory.Sequence(lambda n: f"C{n}")
    canonical_value = "in_transit"


class LaneFallbackRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LaneFallbackRule

    ship_from = factory.SubFactory(WarehouseFactory)
    destination_country = "US"
    carrier = factory.SubFactory(CarrierFactory)


class HistoricalCodeMappingFactory(factory.django.DjangoModelFactory):
    """A mapping's history row, as saving a mapping records it."""

    class Meta:
        model = CodeMapping.history.model

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> object:
        return CodeMappingFactory.create(**kwargs).history.get()


class ExceptionCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExceptionCase

    kind = ExceptionCase.Kind.UNMAPPED_CODE
    dedupe_key = factory.Sequence(lambda n: f"case-{n}")
    title = factory.Sequence(lambda n: f"Case {n}")
    sla_due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=4))


class LinkedExceptionCaseFactory(ExceptionCaseFactory):
    """A case that points at an order, a shipment and both kinds of message."""

    order = factory.SubFactory(OrderFactory)
    shipment = factory.SubFactory(ShipmentFactory)
    inbound_message = factory.SubFactory(InboundMessageFactory)
    outbox_message = factory.SubFactory(OutboxMessageFactory)


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    partner = factory.SubFactory(ConnectionFactory, kind=Connection.Kind.PARTNER)
    account = factory.SubFactory(CustomerAccountFactory)
    event_type = WebhookSubscription.EventType.SHIPMENT_MILESTONE


# Every model the admin shows, by its model class; a model added to an app
# without a factory here fails the admin page tests.
FACTORIES: dict[type, type[factory.django.DjangoModelFactory]] = {
    factory_class._meta.model: factory_class
    for factory_class in [
        UserFactory,
        GroupFactory,
        UnitFactory,
        ItemFactory,
        UnitConversionFactory,
        WarehouseFactory,
        ItemAvailabilityFactory,
        CarrierFactory,
        CarrierServiceFactory,
        CustomerAccountFactory,
        MembershipFactory,
        AddressFactory,
        OrderFactory,
        OrderLineFactory,
        ReturnRequestFactory,
        ReturnLineFactory,
        ShipmentFactory,
        PackageFactory,
        TrackingEventFactory,
        EtaRevisionFactory,
        ServiceAlertFactory,
        DocumentFactory,
        FreightInvoiceFactory,
        FreightInvoiceLineFactory,
        ConnectionFactory,
        CircuitBreakerFactory,
        X12ControlNumbersFactory,
        AckWatchFactory,
        InboundMessageFactory,
        CanonicalEventFactory,
        OutboxMessageFactory,
        CodeMappingFactory,
        HistoricalCodeMappingFactory,
        ExceptionCaseFactory,
        LaneFallbackRuleFactory,
        WebhookSubscriptionFactory,
    ]
}
