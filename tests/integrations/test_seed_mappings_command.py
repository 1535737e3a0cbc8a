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
