"""factory_boy factories for the portal tests: one valid row of each model.

Times are fixed (``NOW``) unless a test passes its own, so rendered pages
can be compared exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from integrations.models import Connection
from masterdata.models import Carrier, CarrierService, Item, Unit, Warehouse
from orders.models import (
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
    ServiceAlert,
    Shipment,
    TrackingEvent,
)

PASSWORD = "correct-horse-battery-staple"
NOW = dt.datetime(2025, 3, 4, 17, 0, tzinfo=dt.UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class CustomerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAccount

    number = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    time_zone = "America/New_York"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(CustomerAccountFactory)
    role = Membership.Role.MEMBER


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = "EA"
    name = "Each"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    description = factory.Sequence(lambda n: f"Widget {n}")
    base_unit = factory.SubFactory(UnitFactory)
    weight_kg = Decimal("1.500")
    length_cm = Decimal("10.0")
    width_cm = Decimal("10.0")
    height_cm = Decimal("10.0")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"DC-{n}")
    name = "East DC"
    time_zone = "America/New_York"
    country = "US"


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


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    account = factory.SubFactory(CustomerAccountFactory)
    number = factory.Sequence(lambda n: f"SO-{n:05d}")
    po_number = factory.Sequence(lambda n: f"PO-{n:05d}")
    status = Order.Status.DELIVERED
    ship_from = factory.SubFactory(WarehouseFactory)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    item = factory.SubFactory(ItemFactory)
    quantity = Decimal("5")
    unit = factory.SelfAttribute("item.base_unit")
    shipped_quantity = factory.SelfAttribute("quantity")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    number = factory.Sequence(lambda n: f"SH-{n:05d}")
    order = factory.SubFactory(OrderFactory)
    account = factory.SelfAttribute("order.account")
    status = "in_transit"
    carrier = factory.SubFactory(CarrierFactory)
    service = factory.SubFactory(
        CarrierServiceFactory, carrier=factory.SelfAttribute("..carrier")
    )
    tracking_numbers = factory.LazyAttribute(lambda s: [f"1Z{s.number[3:]}"])
    last_actual_at = NOW


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    shipment = factory.SubFactory(ShipmentFactory)
    event_key = factory.Sequence(lambda n: f"tms:ev-{n}")
    source = "tms"
    status = "in_transit"
    kind = TrackingEvent.Kind.ACTUAL
    occurred_at = NOW
    city = "Columbus"
    state = "OH"
    country = "US"


class EtaRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EtaRevision

    shipment = factory.SubFactory(ShipmentFactory)
    eta = NOW + dt.timedelta(days=1)
    source = "tms"


class ServiceAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAlert

    shipment = factory.SubFactory(ShipmentFactory)
    order = factory.SelfAttribute("shipment.order")
    account = factory.SelfAttribute("shipment.account")
    reason_code = "weather"
    message = "Severe weather is delaying deliveries in your area."
    raised_at = NOW


class DocumentFactory(factory.django.DjangoModelFactory):
    """A document whose bytes really are in private storage."""

    class Meta:
        model = Document
        exclude = ("content",)

    shipment = factory.SubFactory(ShipmentFactory)
    order = factory.SelfAttribute("shipment.order")
    account = factory.SelfAttribute("shipment.account")
    kind = Document.Kind.POD
    number = factory.Sequence(lambda n: f"POD-{n:05d}")
    content = factory.LazyAttribute(lambda d: f"%PDF-1.4 {d.number}".encode())
    filename = factory.LazyAttribute(lambda d: f"{d.number}.pdf")
    file = factory.LazyAttribute(lambda d: ContentFile(d.content, f"{d.number}.pdf"))
    sha256 = factory.LazyAttribute(lambda d: hashlib.sha256(d.content).hexdigest())
    size = factory.LazyAttribute(lambda d: len(d.content))
    content_type = "application/pdf"


class ReturnRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnRequest

    order = factory.SubFactory(OrderFactory)
    account = factory.SelfAttribute("order.account")
    number = factory.Sequence(lambda n: f"RMA-T{n:05d}")
    reason = "Damaged in transit"


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnLine

    return_request = factory.SubFactory(ReturnRequestFactory)
    order_line = factory.SubFactory(
        OrderLineFactory, order=factory.SelfAttribute("..return_request.order")
    )
    quantity = Decimal("1")


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection
        django_get_or_create = ("code",)

    code = "erp"
    name = "ERP"
    kind = Connection.Kind.ERP
    base_url = "http://127.0.0.1:9/erp"
