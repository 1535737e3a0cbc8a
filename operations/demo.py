"""Demo data: accounts and users, master data, and the orders the demo drives.

Everything here is idempotent so ``make demo`` can run on an existing
database. Passwords are for the local demo only and are printed by it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from integrations.seeding import connections_seed, mappings_seed
from masterdata.models import (
    Carrier,
    CarrierService,
    Item,
    ItemAvailability,
    Unit,
    UnitConversion,
    Warehouse,
)
from operations.models import LaneFallbackRule
from orders.models import Address, CustomerAccount, Membership

DEMO_PASSWORD = "waybill-demo-pass"  # noqa: S105 - local demo logins, printed
DEMO_USERS = {
    "alice": ("ACME", Membership.Role.ADMIN),
    "adam": ("ACME", Membership.Role.MEMBER),
    "bob": ("ZETA", Membership.Role.ADMIN),
    "nora": ("NWND", Membership.Role.ADMIN),
}
ACCOUNTS = [
    ("ACME", "Acme Retail Inc.", "America/New_York", "ok"),
    ("ZETA", "Zeta Handels GmbH", "Europe/Berlin", "ok"),
    ("NWND", "Northwind Traders", "America/Chicago", "hold"),
]
WAREHOUSES = [
    ("DC-EAST", "East distribution centre", "America/New_York", "Newark", "NJ", "US"),
    (
        "DC-WEST",
        "West distribution centre",
        "America/Los_Angeles",
        "Ontario",
        "CA",
        "US",
    ),
]
CARRIERS = [
    ("RDWY", "Roadway Freight", [("LTL", "Less than truckload")]),
    ("FXFE", "FastEx Freight", [("GROUND", "Ground")]),
    ("UPSN", "United Parcel", [("EXPRESS", "Express")]),
    ("CRX", "Carrier X Parcel", [("STD", "Standard")]),
]
ITEMS = [
    ("SKU-A", "Pallet jack wheel", "2.500", False),
    ("SKU-B", "Stretch film roll", "1.200", False),
    ("SKU-C", "Shipping labels (1000)", "0.800", False),
    ("SKU-D", "Lithium battery pack", "3.100", True),
    ("SKU-E", "Corrugated box 40x30x30", "0.450", False),
    ("SKU-F", "Packing tape (36 rolls)", "4.000", False),
]
ADDRESSES = {
    "ACME": [
        ("MAIN", "Acme Retail DC", "100 Commerce Way", "Columbus", "OH", "43004", "US")
    ],
    "ZETA": [
        ("HQ", "Zeta Lager Nord", "Hafenstrasse 12", "Hamburg", "", "20457", "DE")
    ],
    "NWND": [
        ("STORE1", "Northwind Store 1", "5 Lake St", "Chicago", "IL", "60601", "US")
    ],
}


@transaction.atomic
def demo_seed() -> None:
    """Create the demo's accounts, users, master data, connections and mappings."""
    _seed_accounts()
    _seed_users()
    _seed_masterdata()
    connections_seed()
    mappings_seed()
    _seed_edi_shipment()


def _seed_accounts() -> None:
    for number, name, zone, credit in ACCOUNTS:
        account, _ = CustomerAccount.objects.update_or_create(
            number=number,
            defaults={"name": name, "time_zone": zone, "credit_status": credit},
        )
        for code, *fields in ADDRESSES[number]:
            keys = ("name", "line1", "city", "state", "postal_code", "country")
            Address.objects.update_or_create(
                account=account,
                code=code,
                defaults=dict(zip(keys, fields, strict=True)),
            )


def _seed_users() -> None:
    user_model = get_user_model()
    for username, (account_number, role) in DEMO_USERS.items():
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        account = CustomerAccount.objects.get(number=account_number)
        Membership.objects.update_or_create(
            user=user, account=account, defaults={"role": role}
        )
    operator, created = user_model.objects.get_or_create(
        username="ops", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        operator.set_password(DEMO_PASSWORD)
        operator.save(update_fields=["password"])


def _seed_masterdata() -> None:
    each, _ = Unit.objects.get_or_create(code="EA", defaults={"name": "Each"})
    case, _ = Unit.objects.get_or_create(code="CS", defaults={"name": "Case"})
    Unit.objects.get_or_create(code="KG", defaults={"name": "Kilogram"})
    for code, name, zone, city, state, country in WAREHOUSES:
        Warehouse.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "time_zone": zone,
                "city": city,
                "state": state,
                "country": country,
            },
        )
    for scac, name, services in CARRIERS:
        carrier, _ = Carrier.objects.update_or_create(
            scac=scac, defaults={"name": name}
        )
        for code, service_name in services:
            CarrierService.objects.update_or_create(
                carrier=carrier, code=code, defaults={"name": service_name}
            )
    # When the TMS cannot rate, domestic freight goes LTL and the rest parcel.
    _seed_fallback_rule(country="US", scac="RDWY", service="LTL", priority=10)
    _seed_fallback_rule(country="", scac="CRX", service="STD", priority=100)
    for sku, description, weight, hazmat in ITEMS:
        item, _ = Item.objects.update_or_create(
            sku=sku,
            defaults={
                "description": description,
                "base_unit": each,
                "weight_kg": Decimal(weight),
                "length_cm": Decimal("30"),
                "width_cm": Decimal("20"),
                "height_cm": Decimal("15"),
                "hazmat": hazmat,
            },
        )
        UnitConversion.objects.update_or_create(
            item=item, from_unit=case, to_unit=each, defaults={"factor": Decimal("12")}
        )
        for warehouse in Warehouse.objects.all():
            ItemAvailability.objects.update_or_create(
                item=item,
                warehouse=warehouse,
                defaults={"quantity": Decimal("100000"), "as_of": timezone.now()},
            )


def _seed_fallback_rule(
    *, country: str, scac: str, service: str, priority: int
) -> None:
    carrier = Carrier.objects.get(scac=scac)
    LaneFallbackRule.objects.update_or_create(
        ship_from=None,
        destination_country=country,
        destination_state="",
        defaults={
            "carrier": carrier,
            "service": CarrierService.objects.get(carrier=carrier, code=service),
            "priority": priority,
        },
    )


# The shipment the project's sample X12 214 reports on, so the demo shows an
# EDI status file moving a real shipment.
EDI_SHIPMENT = ("SH-EDI-1001", "SO-EDI-1001", "PRO5551234")


def _seed_edi_shipment() -> None:
    from orders.models import Order
    from shipments.models import Shipment

    number, order_number, tracking = EDI_SHIPMENT
    account = CustomerAccount.objects.get(number="ACME")
    order, _ = Order.objects.get_or_create(
        number=order_number,
        defaults={
            "account": account,
            "status": Order.Status.PACKED,
            "po_number": "PO-EDI-1",
        },
    )
    Shipment.objects.get_or_create(
        number=number,
        defaults={
            "account": account,
            "order": order,
            "status": "carrier_assigned",
            "carrier": Carrier.objects.get(scac="RDWY"),
            "tracking_numbers": [tracking],
        },
    )


def demo_order(*, number: str, account_number: str, index: int) -> dict:
    """Return the ``order.released`` data the stand-in ERP sends for a demo order."""
    skus = [sku for sku, *_ in ITEMS]
    ship_to = ADDRESSES[account_number][0][0]
    return {
        "order_number": number,
        "account_number": account_number,
        "po_number": f"PO-{account_number}-{7000 + index}",
        "ship_from": WAREHOUSES[index % len(WAREHOUSES)][0],
        "ship_to": ship_to,
        "requested_date": (timezone.now().date() + dt.timedelta(days=3)).isoformat(),
        "lines": [
            {
                "line_number": line + 1,
                "sku": skus[(index + line) % len(skus)],
                "quantity": str(1 + (index + line) % 5),
                "unit": "CS" if line == 1 else "EA",
            }
            for line in range(1 + index % 3)
        ],
    }
