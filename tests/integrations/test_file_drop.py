"""The X12 file drop: every corpus file ends processed or explained, never lost."""

from __future__ import annotations

import pytest

from integrations.files import file_drop_folder, file_drop_poll
from integrations.models import Connection, InboundMessage
from integrations.services import inbound_message_process
from operations.models import ExceptionCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def drop(seeded, tmp_path, settings):
    settings.WAYBILL_FILE_DROP_ROOT = tmp_path / "drop"
    return file_drop_folder(Connection.objects.get(code="edi-x12"))


def test_dropped_file_is_stored_moved_to_done_and_not_stored_twice(drop):
    (drop / "a.edi").write_bytes(b"ISA*garbage~")

    first = file_drop_poll()
    (drop / "copy-of-a.edi").write_bytes(b"ISA*garbage~")
    second = file_drop_poll()

    assert [m.filename for m in first] == ["a.edi"]
    assert second == []
    assert sorted(p.name for p in (drop / "done").iterdir()) == [
        "a.edi",
        "copy-of-a.edi",
    ]
    assert InboundMessage.objects.count() == 1


def test_hidden_partial_files_wait_until_renamed(drop):
    (drop / ".b.edi.part").write_bytes(b"half")

    assert file_drop_poll() == []
    assert InboundMessage.objects.count() == 0


def test_every_corpus_x12_file_is_processed_or_quarantined_with_a_reason(drop, corpus):
    files = sorted(p for p in (corpus / "x12").iterdir() if p.is_file())
    for path in files:
        (drop / path.name).write_bytes(path.read_bytes())

    stored = file_drop_poll()
    for message in stored:
        inbound_message_process(message_id=message.pk)

    outcomes = {m.filename: (m.state, m.error) for m in InboundMessage.objects.all()}
    assert len(stored) == len(files)
    assert {state for state, _ in outcomes.values()} <= {"processed", "needs_attention"}
    assert all(
        error for state, error in outcomes.values() if state == "needs_attention"
    )
    assert ExceptionCase.objects.filter(inbound_message__isnull=False).count() == sum(
        1 for state, _ in outcomes.values() if state == "needs_attention"
    )


def test_project_sample_files_move_the_demo_shipment_and_explain_the_rest(drop):
    from django.conf import settings as django_settings

    from shipments.models import Shipment

    samples = (
        django_settings.BASE_DIR / "integrations" / "simulators" / "samples" / "x12"
    )
    for path in samples.iterdir():
        (drop / path.name).write_bytes(path.read_bytes())

    for message in file_drop_poll():
        inbound_message_process(message_id=message.pk)

    outcomes = dict(InboundMessage.objects.values_list("filename", "state"))
    errors = dict(InboundMessage.objects.values_list("filename", "error"))
    shipment = Shipment.objects.get(number="SH-EDI-1001")
    assert outcomes == {
        "214-carrierx-status.edi": "processed",
        "214-unknown-shipment.edi": "needs_attention",
        "850-purchase-order.edi": "needs_attention",
    }
    assert errors["214-unknown-shipment.edi"] == (
        "shipment.milestone SH-UNKNOWN-1: unknown shipment SH-UNKNOWN-1"
    )
    assert errors["850-purchase-order.edi"] == (
        "X12 850 (Purchase Order) is not a document this hub accepts yet"
    )
    assert shipment.status == "out_for_delivery"
    assert [e.city for e in shipment.events.order_by("occurred_at")] == [
        "NEWARK",
        "HARRISBURG",
        "COLUMBUS",
    ]
