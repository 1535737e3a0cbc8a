"""Default code mappings and connections, loaded by the demo and the tests."""

from __future__ import annotations

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from integrations.connectors.hub import codes as hub_codes
from integrations.models import CodeMapping, Connection

# The connections a fresh installation talks to: the stand-in ERP, WMS and
# TMS over HTTP, one generic carrier webhook, and the X12 file drop.
DEFAULT_CONNECTIONS = [
    {"code": "erp", "name": "ERP", "kind": "erp", "port_offset": 1},
    {"code": "wms", "name": "Warehouse system", "kind": "wms", "port_offset": 2},
    {"code": "tms", "name": "Transport system", "kind": "tms", "port_offset": 3},
]


def connections_seed(*, secret_prefix: str = "demo") -> list[Connection]:  # noqa: S107
    """Create or update the default connections; return them.

    The secrets are derived from ``secret_prefix`` so the simulators, which
    are started with the same prefix, can sign and verify; a production
    installation sets real secrets in the admin.
    """
    base_port = settings.WAYBILL_SIM_BASE_PORT
    rows = []
    for spec in DEFAULT_CONNECTIONS:
        connection = _upsert(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "kind": spec["kind"],
                "protocol": Connection.Protocol.HTTP_JSON,
                "base_url": f"http://127.0.0.1:{base_port + spec['port_offset']}",
                "timeout_seconds": 5.0,
            },
            secrets={
                "inbound_secret": demo_secret(secret_prefix, spec["code"], "inbound"),
                "outbound_secret": demo_secret(secret_prefix, spec["code"], "outbound"),
            },
        )
        rows.append(connection)
    carrier = _upsert(
        code="carrier-crx",
        defaults={
            "name": "Carrier CRX tracking webhook",
            "kind": Connection.Kind.CARRIER,
            "protocol": Connection.Protocol.HTTP_JSON,
            "scac": "CRX",
        },
        secrets={
            "inbound_secret": demo_secret(secret_prefix, "carrier-crx", "inbound")
        },
    )
    edi, _ = Connection.objects.update_or_create(
        code="edi-x12",
        defaults={
            "name": "Carrier and 3PL EDI (X12 file drop)",
            "kind": Connection.Kind.CARRIER,
            "protocol": Connection.Protocol.X12_FILE,
        },
    )
    return [*rows, carrier, edi, *_carrier_connections_seed(secret_prefix)]


def _upsert(*, code: str, defaults: dict, secrets: dict) -> Connection:
    """Create a connection, or bring its settings up to date.

    Secrets are written only when the connection is created: one rotated or
    set in the admin is never put back to the demo value by a later seeding.
    """
    connection, _ = Connection.objects.update_or_create(
        code=code, defaults=defaults, create_defaults={**defaults, **secrets}
    )
    return connection


# Carrier connectors by name (see integrations.connectors.carrier.mapping:
# the code carrier-<name> chooses the mapping), and the EDIFACT file drop.
CARRIER_CONNECTIONS = [
    {"code": "carrier-ups", "name": "UPS tracking", "scac": "UPSN"},
    {"code": "carrier-fedex", "name": "FedEx tracking", "scac": ""},
    {"code": "carrier-usps", "name": "USPS tracking", "scac": "USPS"},
    {"code": "carrier-canadapost", "name": "Canada Post tracking", "scac": ""},
    {"code": "carrier-dhl", "name": "DHL tracking", "scac": ""},
    {"code": "carrier-dcsa", "name": "Ocean carrier events (DCSA)", "scac": ""},
    {"code": "carrier-easypost", "name": "EasyPost tracking (aggregator)", "scac": ""},
    {
        "code": "carrier-aftership",
        "name": "AfterShip tracking (aggregator)",
        "scac": "",
    },
]


def _carrier_connections_seed(secret_prefix: str) -> list[Connection]:
    rows = []
    for spec in CARRIER_CONNECTIONS:
        connection = _upsert(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "kind": Connection.Kind.CARRIER,
                "protocol": Connection.Protocol.HTTP_JSON,
                "scac": spec["scac"],
            },
            secrets={
                "inbound_secret": demo_secret(secret_prefix, spec["code"], "inbound")
            },
        )
        rows.append(connection)
    edifact, _ = Connection.objects.update_or_create(
        code="edi-edifact",
        defaults={
            "name": "Carrier and supplier EDIFACT (file drop)",
            "kind": Connection.Kind.CARRIER,
            "protocol": Connection.Protocol.EDIFACT,
        },
    )
    # A 3PL warehouse trading X12 files: 940 orders out, 945 advices in, and
    # 997s both ways, each of the hub's groups acknowledged within the hour.
    wms_3pl, _ = Connection.objects.update_or_create(
        code="wms-3pl",
        defaults={
            "name": "3PL warehouse (X12 940, 945 and 997 files)",
            "kind": Connection.Kind.WMS,
            "protocol": Connection.Protocol.X12_FILE,
            "ack_window_minutes": 60,
        },
    )
    return [*rows, edifact, wms_3pl]


def demo_secret(prefix: str, code: str, direction: str) -> str:
    """Return the demo secret of one connection and direction."""
    return f"{prefix}-{code}-{direction}-secret"


def _tables() -> list[tuple[str, str, dict[str, str]]]:
    """Return (source, category, table) for every default code table."""
    tables = [
        ("tms", CodeMapping.Category.SHIPMENT_STATUS, hub_codes.TMS_STATUS),
        ("tms", CodeMapping.Category.EXCEPTION_REASON, hub_codes.TMS_EXCEPTION_REASON),
    ]
    tables.extend(_connector_tables())
    return tables


def _connector_tables() -> list[tuple[str, str, dict[str, str]]]:
    from integrations.connectors.carrier import codes as carrier
    from integrations.connectors.edifact import codes as edifact
    from integrations.connectors.x12 import codes as x12

    x12_tables = [
        ("edi-x12", category, table) for category, table in x12.DEFAULT_TABLES.items()
    ]
    return [
        *x12_tables,
        ("carrier-crx", CodeMapping.Category.SHIPMENT_STATUS, carrier.GENERIC_STATUS),
        (
            "carrier-crx",
            CodeMapping.Category.EXCEPTION_REASON,
            carrier.GENERIC_EXCEPTION_REASON,
        ),
        *[
            (f"carrier-{name}", CodeMapping.Category.SHIPMENT_STATUS, table)
            for name, table in carrier.STATUS_TABLES.items()
            if name != "carrier"
        ],
        ("edi-edifact", CodeMapping.Category.SHIPMENT_STATUS, edifact.IFTSTA_STATUS),
        ("edi-edifact", CodeMapping.Category.EXCEPTION_REASON, edifact.IFTSTA_REASON),
    ]


@transaction.atomic
def mappings_seed() -> int:
    """Insert the default code mappings that are missing; return how many were added.

    Existing rows are left alone: they may have been corrected in the admin.
    Concurrent runs (several replicas deploying at once) take turns.
    """
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('waybill:seed'))")
    existing = set(
        CodeMapping.objects.values_list("source", "category", "external_code")
    )
    new = [
        CodeMapping(
            source=source,
            category=category,
            external_code=code.upper(),
            canonical_value=value,
        )
        for source, category, table in _tables()
        for code, value in table.items()
        if (source, category, code.upper()) not in existing
    ]
    # With history rows, so every mapping's History starts at its seeding.
    bulk_create_with_history(new, CodeMapping, default_change_reason="seeded default")
    return len(new)
