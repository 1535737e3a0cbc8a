"""`manage.py seed_mappings` adds missing defaults and keeps edited rows."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from integrations.models import CodeMapping

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_mappings", stdout=out)
    return out.getvalue().strip()


def test_missing_defaults_are_added_and_edited_rows_kept():
    first = _seed()
    total = CodeMapping.objects.count()
    edited = CodeMapping.objects.get(
        source="edi-edifact", category="shipment_status", external_code="113"
    )
    edited.canonical_value = "in_transit"
    edited.save()
    CodeMapping.objects.filter(
        source="edi-edifact", category="shipment_status", external_code="21"
    ).delete()

    again = _seed()

    assert first == f"{total} default code mapping(s) added"
    assert total > 100
    assert again == "1 default code mapping(s) added"
    assert CodeMapping.objects.get(pk=edited.pk).canonical_value == "in_transit"
    assert (
        CodeMapping.objects.get(
            source="edi-edifact", category="shipment_status", external_code="21"
        ).canonical_value
        == "delivered"
    )


@pytest.mark.django_db(transaction=True)
def test_replicas_seeding_at_once_take_turns():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection as db_connection

    from integrations.seeding import mappings_seed

    def seed() -> int:
        try:
            return mappings_seed()
        finally:
            db_connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        added = list(pool.map(lambda _: seed(), range(4)))

    assert sorted(added)[:3] == [0, 0, 0]
    assert max(added) == CodeMapping.objects.count() > 100


def test_a_batch_size_below_one_stops_the_settings_with_its_name():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "WAYBILL_OUTBOX_DISPATCH_BATCH": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "WAYBILL_OUTBOX_DISPATCH_BATCH must be at least 1" in result.stderr
