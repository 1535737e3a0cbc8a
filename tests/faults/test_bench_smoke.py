"""A tiny run of the ingest benchmark, so `make bench` cannot rot unnoticed."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.ingest import pipeline_run, raw_insert_run, report
from integrations.models import CanonicalEvent, InboundMessage, OutboxMessage

pytestmark = pytest.mark.e2e

EVENTS = 60


def test_bench_runs_both_sides_on_the_same_rows_and_prints_the_ratio(seeded, worker):
    pipeline = pipeline_run(events=EVENTS, prefix="S", timeout=120)
    raw = raw_insert_run(events=EVENTS, prefix="S")
    printed = report(events=EVENTS, pipeline=pipeline, raw=raw)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(message_id ORDER BY id) FROM bench_raw_inbound"
        )
        raw_ids = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw_inbound")

    stored = list(
        InboundMessage.objects.order_by("pk").values_list("message_id", flat=True)
    )
    assert raw_ids == stored
    assert InboundMessage.objects.filter(state="processed").count() == EVENTS
    assert CanonicalEvent.objects.filter(state="applied").count() == EVENTS
    assert OutboxMessage.objects.filter(type="fulfilment.requested").count() == EVENTS
    assert f"events: {EVENTS}\n" in printed
    assert "ratio pipeline/raw: " in printed
    assert "PostgreSQL" in printed
