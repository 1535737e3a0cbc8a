"""The file drop: every file ends stored, repeated or rejected, never lost."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from django.db import DataError, OperationalError

from integrations import files
from integrations.files import file_drop_folder, file_drop_poll
from integrations.models import Connection, InboundMessage
from integrations.seeding import connections_seed
from integrations.services import inbound_message_process
from operations.models import ExceptionCase

pytestmark = pytest.mark.django_db

SETTLE = 2.0


@pytest.fixture
def drop(db, tmp_path, settings):
    # Connections alone: the full demo seed is needed only to process files.
    connections_seed()
    settings.WAYBILL_FILE_DROP_ROOT = tmp_path / "drop"
    settings.WAYBILL_FILE_SETTLE_SECONDS = SETTLE
    return file_drop_folder(Connection.objects.get(code="edi-x12"))


@pytest.fixture
def edifact_drop(drop):
    return file_drop_folder(Connection.objects.get(code="edi-edifact"))


def poll_settled() -> list[InboundMessage]:
    """Poll as if the settle time had passed since every file was written."""
    return file_drop_poll(now=time.time() + SETTLE + 1)


def names(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def prefix(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def test_dropped_file_is_stored_archived_under_its_message_and_not_stored_twice(
    drop,
):
    (drop / "a.edi").write_bytes(b"ISA*garbage~")

    first = poll_settled()
    (drop / "copy-of-a.edi").write_bytes(b"ISA*garbage~")
    (drop / "a.edi").write_bytes(b"ISA*garbage~")
    second = poll_settled()

    [message] = first
    assert (message.filename, message.message_id) == (
        "a.edi",
        f"a.edi:{prefix(b'ISA*garbage~')}",
    )
    assert second == []
    assert InboundMessage.objects.count() == 1
    assert names(drop / "done") == [
        f"{message.pk}-a.edi",
        f"{message.pk}-copy-of-a.edi",
        f"{message.pk}.2-a.edi",
    ]
    assert names(drop / "processing") == []


def test_new_file_reusing_a_name_is_a_new_message_and_keeps_its_own_archive(drop):
    monday, tuesday = b"ISA*monday~", b"ISA*tuesday~"
    (drop / "daily-214.edi").write_bytes(monday)
    [first] = poll_settled()

    (drop / "daily-214.edi").write_bytes(tuesday)
    [second] = poll_settled()

    stored = InboundMessage.objects.order_by("pk")
    assert [(m.filename, m.message_id, bytes(m.body)) for m in stored] == [
        ("daily-214.edi", f"daily-214.edi:{prefix(monday)}", monday),
        ("daily-214.edi", f"daily-214.edi:{prefix(tuesday)}", tuesday),
    ]
    done = drop / "done"
    assert names(done) == sorted(
        [f"{first.pk}-daily-214.edi", f"{second.pk}-daily-214.edi"]
    )
    assert (done / f"{first.pk}-daily-214.edi").read_bytes() == monday
    assert (done / f"{second.pk}-daily-214.edi").read_bytes() == tuesday


def test_badly_named_files_are_stored_under_printable_names_beside_the_others(
    drop, edifact_drop
):
    long_stem = "x" * 246
    raw_drop = os.fsencode(drop)
    (drop / "z-bad\udcfe.edi").write_bytes(b"ISA*bad-byte~")
    (drop / f"{long_stem}.edi").write_bytes(b"ISA*long~")
    (drop / "line\nbreak.edi").write_bytes(b"ISA*newline~")
    with open(raw_drop + b"/" + b"\xfe" * 100 + b".edi", "wb") as escaped:
        escaped.write(b"ISA*escaped~")
    (drop / "m-good.edi").write_bytes(b"ISA*good~")
    (edifact_drop / "status.edi").write_bytes(b"UNB+UNOC:3+S+R'")

    stored = poll_settled()

    by_body = {bytes(m.body): m for m in stored}
    assert len(stored) == 6
    assert by_body[b"ISA*bad-byte~"].filename == "z-bad\\xfe.edi"
    assert by_body[b"ISA*long~"].filename == f"{long_stem}.edi"
    assert by_body[b"ISA*long~"].message_id == (
        f"{'x' * 178}~.edi:{prefix(b'ISA*long~')}"
    )
    assert len(by_body[b"ISA*long~"].message_id) == 200
    assert by_body[b"ISA*newline~"].filename == "line\\nbreak.edi"
    assert by_body[b"ISA*escaped~"].filename == "\\xfe" * 62 + "\\x~.edi"
    assert len(by_body[b"ISA*escaped~"].filename) == 255
    assert by_body[b"ISA*good~"].filename == "m-good.edi"
    assert by_body[b"UNB+UNOC:3+S+R'"].connection.code == "edi-edifact"
    assert names(drop / "processing") == []
    assert names(drop / "rejected") == []
    assert f"{by_body[b'ISA*bad-byte~'].pk}-z-bad\\xfe.edi" in names(drop / "done")
    assert len(names(drop / "done")) == 5


def test_file_too_large_is_rejected_with_a_reason_and_a_case(
    drop, edifact_drop, settings
):
    settings.WAYBILL_INBOUND_MAX_BYTES = 100
    (drop / "big.edi").write_bytes(b"I" * 101)
    (drop / "small.edi").write_bytes(b"ISA*small~")
    (edifact_drop / "status.edi").write_bytes(b"UNB+UNOC:3+S+R'")

    stored = poll_settled()

    reason = "file is 101 bytes, larger than the 100 bytes allowed"
    [archived, reason_file] = names(drop / "rejected")
    assert archived.endswith("Z-big.edi")
    assert reason_file == f"{archived}.reason.txt"
    assert (drop / "rejected" / reason_file).read_text() == f"big.edi\n{reason}\n"
    assert (drop / "rejected" / archived).read_bytes() == b"I" * 101
    [case] = ExceptionCase.objects.all()
    assert (case.kind, case.state, case.title) == (
        "invalid_message",
        "open",
        f"edi-x12 file big.edi rejected: {reason}",
    )
    assert case.detail == (
        f"{reason}\nThe file is kept as {drop / 'rejected' / archived}."
    )
    assert sorted(m.filename for m in stored) == ["small.edi", "status.edi"]
    assert names(drop / "processing") == []


def test_file_the_database_refuses_is_rejected_and_the_next_file_still_goes_in(
    drop, edifact_drop, monkeypatch
):
    accept = files.inbound_message_accept

    def refuse_poison(**kwargs):
        if kwargs["filename"].startswith("poison"):
            raise DataError("value too long for type character varying(200)")
        return accept(**kwargs)

    monkeypatch.setattr(files, "inbound_message_accept", refuse_poison)
    (drop / "a-poison.edi").write_bytes(b"ISA*first~")
    (drop / "poison.edi").write_bytes(b"ISA*poison~")
    (drop / "z-after.edi").write_bytes(b"ISA*after~")
    (edifact_drop / "poison.edi").write_bytes(b"UNB+poison'")
    (edifact_drop / "status.edi").write_bytes(b"UNB+UNOC:3+S+R'")

    stored = poll_settled()

    assert sorted((m.connection.code, m.filename) for m in stored) == [
        ("edi-edifact", "status.edi"),
        ("edi-x12", "a-poison.edi"),
        ("edi-x12", "z-after.edi"),
    ]
    titles = sorted(ExceptionCase.objects.values_list("title", flat=True))
    reason = "could not be stored: DataError: value too long for type character"
    assert titles == [
        f"edi-edifact file poison.edi rejected: {reason} varying(200)",
        f"edi-x12 file poison.edi rejected: {reason} varying(200)",
    ]
    assert [name.split("-", 1)[1] for name in names(drop / "rejected")] == [
        "poison.edi",
        "poison.edi.reason.txt",
    ]
    assert names(drop / "processing") == names(edifact_drop / "processing") == []


def test_database_outage_leaves_the_file_claimed_until_it_can_be_stored(
    drop, monkeypatch
):
    accept = files.inbound_message_accept

    def outage(**kwargs):
        raise OperationalError("connection refused")

    (drop / "a.edi").write_bytes(b"ISA*a~")
    monkeypatch.setattr(files, "inbound_message_accept", outage)
    during = poll_settled()
    monkeypatch.setattr(files, "inbound_message_accept", accept)
    too_soon = poll_settled()
    after = file_drop_poll(now=time.time() + files.STALE_CLAIM_SECONDS + 1)

    assert during == too_soon == []
    assert [m.filename for m in after] == ["a.edi"]
    assert ExceptionCase.objects.count() == 0
    assert names(drop / "rejected") == names(drop / "processing") == []
    assert names(drop / "done") == [f"{after[0].pk}-a.edi"]


def test_stored_file_that_cannot_be_archived_is_archived_later_as_a_repeat(
    drop, monkeypatch
):
    archive = files._archive

    def done_unwritable(**kwargs):
        raise PermissionError(13, "Permission denied")

    (drop / "a.edi").write_bytes(b"ISA*a~")
    monkeypatch.setattr(files, "_archive", done_unwritable)
    during = poll_settled()
    monkeypatch.setattr(files, "_archive", archive)
    after = file_drop_poll(now=time.time() + files.STALE_CLAIM_SECONDS + 1)

    [message] = InboundMessage.objects.all()
    assert during == after == []
    assert message.filename == "a.edi"
    assert ExceptionCase.objects.count() == 0
    assert names(drop / "rejected") == names(drop / "processing") == []
    assert names(drop / "done") == [f"{message.pk}-a.edi"]


def test_connection_whose_folder_is_unusable_does_not_stop_the_others(drop, settings):
    (settings.WAYBILL_FILE_DROP_ROOT / "edi-edifact").write_bytes(b"not a folder")
    (drop / "a.edi").write_bytes(b"ISA*a~")

    stored = poll_settled()

    assert [(m.connection.code, m.filename) for m in stored] == [("edi-x12", "a.edi")]


def test_new_file_waits_while_a_claimed_file_of_the_same_name_is_in_processing(
    drop,
):
    (drop / "processing" / "a.edi").write_bytes(b"ISA*claimed~")
    (drop / "a.edi").write_bytes(b"ISA*new~")

    first = poll_settled()
    (drop / "processing" / "a.edi").unlink()
    second = poll_settled()

    assert first == []
    assert [bytes(m.body) for m in second] == [b"ISA*new~"]


def test_file_still_being_written_is_taken_only_once_it_has_settled(drop):
    path = drop / "growing.edi"
    path.write_bytes(b"ISA*half")
    written = path.stat().st_mtime

    early = file_drop_poll(now=written + 1)
    with path.open("ab") as growing:
        growing.write(b"*rest~")
    os.utime(path, (written + 1.5, written + 1.5))
    still_early = file_drop_poll(now=written + 3)
    settled = file_drop_poll(now=written + 3.5)

    assert early == still_early == []
    assert [bytes(m.body) for m in settled] == [b"ISA*half*rest~"]


def test_file_with_a_future_mtime_is_taken_once_unchanged_across_polls(drop):
    path = drop / "skewed.edi"
    path.write_bytes(b"ISA*part")
    start = time.time()
    os.utime(path, (start + 3600, start + 3600))

    first = file_drop_poll(now=start)
    with path.open("ab") as growing:
        growing.write(b"*rest~")
    os.utime(path, (start + 3601, start + 3601))
    changed = file_drop_poll(now=start + 2.5)
    unchanged_too_briefly = file_drop_poll(now=start + 4)
    unchanged = file_drop_poll(now=start + 4.5)

    assert first == changed == unchanged_too_briefly == []
    assert [bytes(m.body) for m in unchanged] == [b"ISA*part*rest~"]


def test_hidden_temporary_and_partial_files_wait_until_renamed(drop):
    for name in (".b.edi", "c.edi.part", "d.edi.TMP", "e.tmp"):
        (drop / name).write_bytes(b"ISA*half")

    waiting = poll_settled()
    (drop / "c.edi.part").rename(drop / "c.edi")
    renamed = poll_settled()

    assert waiting == []
    assert [m.filename for m in renamed] == ["c.edi"]
    assert names(drop) == [
        ".b.edi",
        "d.edi.TMP",
        "done",
        "e.tmp",
        "processing",
        "rejected",
    ]


def test_every_corpus_x12_file_is_processed_or_quarantined_with_a_reason(
    seeded, drop, corpus
):
    corpus_files = sorted(p for p in (corpus / "x12").iterdir() if p.is_file())
    for path in corpus_files:
        (drop / path.name).write_bytes(path.read_bytes())

    stored = poll_settled()
    for message in stored:
        inbound_message_process(message_id=message.pk)

    outcomes = {m.filename: (m.state, m.error) for m in InboundMessage.objects.all()}
    assert len(stored) == len(corpus_files)
    assert {state for state, _ in outcomes.values()} <= {"processed", "needs_attention"}
    assert all(
        error for state, error in outcomes.values() if state == "needs_attention"
    )
    assert ExceptionCase.objects.filter(inbound_message__isnull=False).count() == sum(
        1 for state, _ in outcomes.values() if state == "needs_attention"
    )


def test_project_sample_files_move_the_demo_shipment_and_explain_the_rest(seeded, drop):
    from django.conf import settings as django_settings

    from shipments.models import Shipment

    samples = (
        django_settings.BASE_DIR / "integrations" / "simulators" / "samples" / "x12"
    )
    for path in samples.iterdir():
        (drop / path.name).write_bytes(path.read_bytes())

    for message in poll_settled():
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
