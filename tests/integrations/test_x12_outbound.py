"""X12 files out: 940 and 204 rendering, delivery, control numbers, retries."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone

from integrations.connectors.x12.outbound import control_numbers_next, deliver
from integrations.edi.x12 import parse_interchanges
from integrations.models import AckWatch, Connection, OutboxMessage, X12ControlNumbers
from integrations.outbox import outbox_dispatch
from operations.demo import demo_order
from operations.models import ExceptionCase
from orders.models import Address, Order
from tests.integrations.helpers import deliver as deliver_inbound
from tests.integrations.test_order_release import released

B14_NAME = "Müller & Söhne *Nord* ~Halle 3~"
B14_STREET = "Hauptstraße 5:7^B"


@pytest.fixture
def outbound_root(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path / "outbound"


@pytest.fixture
def x12_wms(seeded, outbound_root) -> Connection:
    """Make the seeded WMS a 3PL that takes 940 files and answers with 997s."""
    Connection.objects.filter(code="wms").update(
        protocol=Connection.Protocol.X12_FILE, ack_window_minutes=60
    )
    return Connection.objects.get(code="wms")


def release_b14_order(number: str = "SO-B14") -> OutboxMessage:
    """Release a ZETA order shipping to CASES B14's address; return its 940 row."""
    Address.objects.filter(account__number="ZETA", code="HQ").update(
        name=B14_NAME, line1=B14_STREET, city="Köln", postal_code="50667"
    )
    data = demo_order(number=number, account_number="ZETA", index=0)
    data["requested_date"] = "2030-01-15"
    deliver_inbound("erp", released(data))
    return OutboxMessage.objects.get(type="fulfilment.requested", subject=number)


def isa_time(moment: dt.datetime) -> tuple[str, str]:
    return moment.strftime("%y%m%d*%H%M"), moment.strftime("%Y%m%d*%H%M")


def make_due(message: OutboxMessage, **fields) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now(), **fields
    )


def test_released_order_becomes_a_940_file_and_keeps_its_unicode(
    x12_wms, outbound_root
):
    message = release_b14_order()

    outbox_dispatch(message_id=message.pk)

    message.refresh_from_db()
    watch = AckWatch.objects.get(outbox_message=message)
    short, long = isa_time(watch.sent_at)
    body = (outbound_root / "wms" / "000000001-940.x12").read_bytes()
    assert (message.state, message.response_status) == ("delivered", 201)
    assert body.decode("ascii") == (
        "ISA*00*          *00*          *ZZ*WAYBILL        *ZZ*WMS            "
        f"*{short}*U*00401*000000001*0*P*:~\n"
        f"GS*OW*WAYBILL*WMS*{long}*1*X*004010~\n"
        "ST*940*0001~\n"
        "W05*N*SO-B14~\n"
        "N1*ST*MULLER & SOHNE NORD HALLE 3~\n"
        "N3*HAUPTSTRASSE 5 7 B~\n"
        "N4*KOLN**50667*DE~\n"
        "N1*SF**ZZ*DC-EAST~\n"
        "N9*11*ZETA~\n"
        "G62*10*20300115~\n"
        "LX*1~\n"
        "W01*1*EA**SK*SKU-A~\n"
        "W76*1~\n"
        "SE*12*0001~\n"
        "GE*1*1~\n"
        "IEA*1*000000001~\n"
    )
    order = Order.objects.select_related("ship_to").get(number="SO-B14")
    assert order.ship_to.name == B14_NAME
    assert order.ship_to.line1 == B14_STREET
    assert message.payload["ship_to"]["name"] == B14_NAME


def test_portal_still_shows_the_unicode_ship_to_after_the_940(x12_wms):
    message = release_b14_order()
    outbox_dispatch(message_id=message.pk)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bob"))

    page = client.get(Order.objects.get(number="SO-B14").get_absolute_url())

    assert page.status_code == 200
    assert "Müller &amp; Söhne *Nord* ~Halle 3~, Köln DE" in page.content.decode()


def test_written_940_opens_a_watch_due_one_window_after_the_write(x12_wms):
    message = release_b14_order()
    before = timezone.now()

    outbox_dispatch(message_id=message.pk)

    watch = AckWatch.objects.get()
    assert (
        watch.connection_id,
        watch.interchange_control,
        watch.group_control,
        watch.functional_id,
        watch.transaction_sets,
        watch.state,
    ) == (x12_wms.pk, "000000001", "1", "OW", ["0001"], "waiting")
    window = dt.timedelta(minutes=60)
    assert before + window <= watch.due_at <= timezone.now() + window


def test_retried_message_writes_the_same_interchange_with_the_same_numbers(
    x12_wms, outbound_root
):
    message = release_b14_order()
    outbound_root.write_text("not a folder")  # the first write fails

    outbox_dispatch(message_id=message.pk)
    message.refresh_from_db()
    failed_state, failed_error = message.state, message.last_error
    outbound_root.unlink()
    make_due(message)
    outbox_dispatch(message_id=message.pk)
    first = (outbound_root / "wms" / "000000001-940.x12").read_bytes()
    # A worker that died after the rename leaves the row pending: it is sent again.
    make_due(message, state="pending")
    outbox_dispatch(message_id=message.pk)

    message.refresh_from_db()
    assert failed_state == "pending"
    assert failed_error.startswith(("FileExistsError", "NotADirectoryError"))
    assert message.state == "delivered"
    assert message.attempts == 3
    assert sorted(p.name for p in (outbound_root / "wms").iterdir()) == [
        "000000001-940.x12"
    ]
    assert (outbound_root / "wms" / "000000001-940.x12").read_bytes() == first
    assert X12ControlNumbers.objects.get(connection=x12_wms).last_interchange == 1
    assert AckWatch.objects.count() == 1


def test_each_new_message_takes_the_next_numbers(x12_wms, outbound_root):
    first = release_b14_order("SO-B14-1")
    second = release_b14_order("SO-B14-2")

    outbox_dispatch(message_id=second.pk)
    outbox_dispatch(message_id=first.pk)

    files = sorted(p.name for p in (outbound_root / "wms").iterdir())
    numbers = X12ControlNumbers.objects.get(connection=x12_wms)
    assert files == ["000000001-940.x12", "000000002-940.x12"]
    assert (numbers.last_interchange, numbers.last_group) == (2, 2)
    assert list(
        AckWatch.objects.order_by("group_control").values_list(
            "outbox_message__subject", "group_control"
        )
    ) == [("SO-B14-2", "1"), ("SO-B14-1", "2")]


def tender_payload() -> dict:
    return {
        "shipment_number": "SH-B14",
        "order_number": "SO-B14",
        "carrier_scac": "RDWY",
        "ship_from": {
            "name": "East distribution centre",
            "line1": "1 Dock Rd",
            "city": "Newark",
            "state": "NJ",
            "postal_code": "07102",
            "country": "US",
        },
        "ship_to": {
            "name": B14_NAME,
            "line1": B14_STREET,
            "city": "Köln",
            "state": "",
            "postal_code": "50667",
            "country": "DE",
        },
        "packages": [{"weight_kg": "12.500"}, {"weight_kg": "7.25"}],
        "pickup_date": "2026-12-08",
    }


@pytest.fixture
def x12_carrier(db, outbound_root) -> Connection:
    return Connection.objects.create(
        code="carrier-rdwy",
        name="Roadway EDI",
        kind=Connection.Kind.CARRIER,
        protocol=Connection.Protocol.X12_FILE,
        scac="RDWY",
    )


def tender(payload: dict, *, key: str = "tender:SH-B14") -> OutboxMessage:
    return OutboxMessage.objects.create(
        destination=Connection.objects.get(code="carrier-rdwy"),
        type="shipment.tender",
        subject=payload.get("shipment_number", ""),
        payload=payload,
        idempotency_key=key,
        correlation_id="SO-B14",
        next_attempt_at=timezone.now(),
    )


def test_shipment_tender_becomes_a_204_file(x12_carrier, outbound_root):
    message = tender(tender_payload())

    status, error = deliver(message=message)

    body = (outbound_root / "carrier-rdwy" / "000000001-204.x12").read_bytes()
    lines = body.decode("ascii").splitlines()
    assert (status, error) == (201, "")
    assert lines[2:] == [
        "ST*204*0001~",
        "B2**RDWY**SH-B14**PP~",
        "B2A*00~",
        "L11*SO-B14*OQ~",
        "S5*1*LD*19.75*K*2*CT~",
        "G62*37*20261208~",
        "N1*SF*EAST DISTRIBUTION CENTRE~",
        "N3*1 DOCK RD~",
        "N4*NEWARK*NJ*07102*US~",
        "S5*2*UL*19.75*K*2*CT~",
        "N1*ST*MULLER & SOHNE NORD HALLE 3~",
        "N3*HAUPTSTRASSE 5 7 B~",
        "N4*KOLN**50667*DE~",
        "L3*19.75*G*********2*K~",
        "SE*15*0001~",
        "GE*1*1~",
        "IEA*1*000000001~",
    ]
    assert lines[0].split("*")[7:9] == ["ZZ", "RDWY           "]
    assert lines[1].startswith("GS*SM*WAYBILL*RDWY*")
    [interchange] = parse_interchanges(body)
    assert interchange.transaction_sets[0].errors == []
    assert interchange.warnings == []


def test_partner_without_an_ack_window_gets_no_watch(x12_carrier):
    message = tender(tender_payload())

    deliver(message=message)

    assert AckWatch.objects.count() == 0
    assert X12ControlNumbers.objects.get(connection=x12_carrier).last_interchange == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"pickup_date": None},
            "cannot write X12 for shipment.tender: None is not an ISO date",
        ),
        (
            {"packages": []},
            "cannot write X12 for shipment.tender: a 204 needs at least one package",
        ),
        (
            {"packages": [{"weight_kg": "heavy"}]},
            "cannot write X12 for shipment.tender: package 1 weight_kg 'heavy' "
            "is not a number",
        ),
        (
            {"ship_to": {"name": "***"}},
            "cannot write X12 for shipment.tender: the ST party has no name",
        ),
        (
            {"carrier_scac": "~"},
            "cannot write X12 for shipment.tender: carrier_scac '~' is not a SCAC",
        ),
    ],
)
def test_unusable_tender_is_dead_at_once_with_a_case_and_uses_no_number(
    x12_carrier, change, reason
):
    message = tender({**tender_payload(), **change})

    outbox_dispatch(message_id=message.pk)

    message.refresh_from_db()
    case = ExceptionCase.objects.get(outbox_message=message)
    assert (message.state, message.response_status, message.attempts) == (
        "dead",
        422,
        1,
    )
    assert message.last_error == reason
    assert (case.kind, case.detail) == ("dead_letter", reason)
    assert not X12ControlNumbers.objects.filter(last_interchange__gt=0).exists()


def test_payload_missing_a_key_is_refused_by_name(x12_carrier):
    payload = tender_payload()
    del payload["ship_from"]

    assert deliver(message=tender(payload)) == (
        422,
        "cannot write X12 for shipment.tender: the payload has no 'ship_from'",
    )


def test_type_with_no_x12_document_is_refused(x12_carrier):
    message = OutboxMessage.objects.create(
        destination=x12_carrier,
        type="order.held",
        subject="SO-1",
        payload={},
        idempotency_key="held:SO-1",
        next_attempt_at=timezone.now(),
    )

    assert deliver(message=message) == (
        422,
        "cannot write X12 for order.held: no X12 document is written for 'order.held'",
    )


def _in_threads(count: int, work) -> list:
    """Run ``work(index)`` in ``count`` threads started together; return results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_number_takers_never_share_a_number(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    partner = Connection.objects.create(
        code="x12-partner", name="P", kind="wms", protocol="x12_file"
    )

    def take_five(index: int) -> list[int]:
        return [control_numbers_next(connection=partner).interchange for _ in range(5)]

    taken = [n for numbers in _in_threads(12, take_five) for n in numbers]

    assert sorted(taken) == list(range(1, 61))
    assert X12ControlNumbers.objects.get(connection=partner).last_group == 60


@pytest.mark.django_db(transaction=True)
def test_concurrent_renders_write_distinct_interchanges(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    partner = Connection.objects.create(
        code="x12-partner",
        name="P",
        kind="carrier",
        protocol="x12_file",
        scac="RDWY",
        ack_window_minutes=30,
    )
    messages = [
        OutboxMessage.objects.create(
            destination=partner,
            type="shipment.tender",
            subject=f"SH-{index}",
            payload={**tender_payload(), "shipment_number": f"SH-{index}"},
            idempotency_key=f"tender:{index}",
            next_attempt_at=timezone.now(),
        )
        for index in range(8)
    ]

    outcomes = _in_threads(8, lambda i: deliver(message=messages[i]))

    folder = tmp_path / "outbound" / "x12-partner"
    controls = {
        parse_interchanges(path.read_bytes())[0].control_number: path.name
        for path in folder.iterdir()
    }
    assert outcomes == [(201, "")] * 8
    assert sorted(controls) == [f"{n:09d}" for n in range(1, 9)]
    assert sorted(AckWatch.objects.values_list("group_control", flat=True)) == sorted(
        str(n) for n in range(1, 9)
    )
    assert AckWatch.objects.values("outbox_message").distinct().count() == 8


def test_seeded_3pl_takes_940_files_and_owes_a_997_within_the_hour(
    x12_wms, outbound_root
):
    message = release_b14_order()
    OutboxMessage.objects.filter(pk=message.pk).update(
        destination=Connection.objects.get(code="wms-3pl")
    )

    outbox_dispatch(message_id=message.pk)

    watch = AckWatch.objects.get()
    body = (outbound_root / "wms-3pl" / "000000001-940.x12").read_text()
    assert body.splitlines()[1].startswith("GS*OW*WAYBILL*WMS-3PL*")
    assert (watch.connection.code, watch.state) == ("wms-3pl", "waiting")
    assert watch.due_at - timezone.now() > dt.timedelta(minutes=59)
