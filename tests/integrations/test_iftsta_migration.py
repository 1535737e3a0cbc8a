"""Migration 0011: seeded IFTSTA code mappings corrected to Rec 24, edits kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("integrations", "0010_connection_sending_enabled_x12_profile")
AFTER = ("integrations", "0011_iftsta_rec24_defaults")
SOURCE = "edi-edifact"
REASON = "UN/CEFACT Rec 24 correction of the IFTSTA defaults"

# The defaults as seeded before the Rec 24 fix.
OLD_STATUS = {
    "1": "carrier_assigned",
    "5": "picked_up",
    "11": "in_transit",
    "12": "in_transit",
    "17": "out_for_delivery",
    "18": "delivery_attempted",
    "20": "available_for_pickup",
    "21": "delivered",
    "22": "exception",
    "25": "returned_to_sender",
}
OLD_REASON = {
    "AA": "consignee",
    "AB": "consignee",
    "AC": "consignee",
    "AD": "weather",
    "AE": "customs",
    "AF": "carrier",
}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def migrate():
    """Return a function that migrates to a node and gives its historical apps.

    The database is put back at the latest migrations afterwards, so the
    tests that follow find the schema they expect.
    """

    def to(node):
        executor = MigrationExecutor(connection)
        executor.migrate([node])
        return executor.loader.project_state([node]).apps

    yield to

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _seed_old(apps, *, with_history: bool) -> None:
    """Insert the old IFTSTA defaults as seeding did, optionally with history."""
    mapping = apps.get_model("integrations", "CodeMapping")
    tables = [("shipment_status", OLD_STATUS), ("exception_reason", OLD_REASON)]
    for category, table in tables:
        for code, value in table.items():
            row = mapping.objects.create(
                source=SOURCE,
                category=category,
                external_code=code,
                canonical_value=value,
            )
            if with_history:
                _history(apps, row, "+", reason="seeded default")


def _history(apps, row, history_type, *, reason, user=None) -> None:
    apps.get_model("integrations", "HistoricalCodeMapping").objects.create(
        id=row.id,
        source=row.source,
        category=row.category,
        external_code=row.external_code,
        canonical_value=row.canonical_value,
        description=row.description,
        updated_at=row.updated_at,
        history_date=row.updated_at,
        history_type=history_type,
        history_change_reason=reason,
        history_user=user,
    )


def _table(apps, category, source=SOURCE) -> dict[str, str]:
    mapping = apps.get_model("integrations", "CodeMapping")
    rows = mapping.objects.filter(source=source, category=category)
    return dict(rows.values_list("external_code", "canonical_value"))


@pytest.mark.parametrize("with_history", [True, False])
def test_untouched_old_defaults_are_corrected_and_stale_codes_deleted(
    migrate, with_history
):
    # Rows seeded before history was kept have no history records at all.
    _seed_old(migrate(BEFORE), with_history=with_history)

    apps = migrate(AFTER)

    assert _table(apps, "shipment_status") == {
        "1": "in_transit",
        "17": "exception",
        "18": "exception",
        "20": "exception",
        "21": "delivered",
        "22": "delivered",
        "25": "exception",
    }
    assert _table(apps, "exception_reason") == {}


def test_corrections_are_recorded_in_the_history_with_their_reason(migrate):
    _seed_old(migrate(BEFORE), with_history=True)

    apps = migrate(AFTER)

    history = apps.get_model("integrations", "HistoricalCodeMapping")
    recorded = history.objects.filter(history_change_reason=REASON)
    assert sorted(
        recorded.values_list(
            "external_code", "history_type", "canonical_value", "history_user"
        )
    ) == [
        ("1", "~", "in_transit", None),
        ("11", "-", "in_transit", None),
        ("12", "-", "in_transit", None),
        ("17", "~", "exception", None),
        ("18", "~", "exception", None),
        ("20", "~", "exception", None),
        ("22", "~", "delivered", None),
        ("25", "~", "exception", None),
        ("5", "-", "picked_up", None),
        ("AA", "-", "consignee", None),
        ("AB", "-", "consignee", None),
        ("AC", "-", "consignee", None),
        ("AD", "-", "weather", None),
        ("AE", "-", "customs", None),
        ("AF", "-", "carrier", None),
    ]
    # The corrected row's latest record is the correction, as the admin shows.
    seventeen = history.objects.filter(external_code="17").latest()
    assert seventeen.history_change_reason == REASON


def test_rows_a_person_edited_or_created_are_left_alone(migrate):
    apps = migrate(BEFORE)
    _seed_old(apps, with_history=True)
    mapping = apps.get_model("integrations", "CodeMapping")
    operator = apps.get_model("auth", "User").objects.create(username="ops")
    # An operator's value, a code edited and set back to the old value, a
    # description written by hand, and a code an operator added themselves.
    edited = mapping.objects.get(source=SOURCE, external_code="17")
    edited.canonical_value = "in_transit"
    edited.save()
    _history(apps, edited, "~", reason=None, user=operator)
    reverted = mapping.objects.get(source=SOURCE, external_code="22")
    _history(apps, reverted, "~", reason=None, user=operator)
    described = mapping.objects.get(source=SOURCE, external_code="AD")
    described.description = "Storm delays at the partner's hub"
    described.save()
    added = mapping.objects.get(source=SOURCE, external_code="5")
    apps.get_model("integrations", "HistoricalCodeMapping").objects.filter(
        id=added.id
    ).update(history_user=operator, history_change_reason=None)

    apps = migrate(AFTER)

    assert _table(apps, "shipment_status") == {
        "1": "in_transit",
        "5": "picked_up",
        "17": "in_transit",
        "18": "exception",
        "20": "exception",
        "21": "delivered",
        "22": "exception",
        "25": "exception",
    }
    assert _table(apps, "exception_reason") == {"AD": "weather"}


def test_other_sources_with_the_same_codes_are_not_changed(migrate):
    apps = migrate(BEFORE)
    mapping = apps.get_model("integrations", "CodeMapping")
    mapping.objects.create(
        source="edi-x12",
        category="shipment_status",
        external_code="17",
        canonical_value="out_for_delivery",
    )
    mapping.objects.create(
        source="*",
        category="exception_reason",
        external_code="AA",
        canonical_value="consignee",
    )

    apps = migrate(AFTER)

    assert _table(apps, "shipment_status", "edi-x12") == {"17": "out_for_delivery"}
    assert _table(apps, "exception_reason", "*") == {"AA": "consignee"}


def test_migrating_back_keeps_the_corrected_rows(migrate):
    _seed_old(migrate(BEFORE), with_history=False)
    migrate(AFTER)

    apps = migrate(BEFORE)

    assert _table(apps, "shipment_status")["17"] == "exception"
    assert _table(apps, "exception_reason") == {}
