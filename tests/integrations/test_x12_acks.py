"""997s both ways: one per inbound group, and partners' 997s closing watches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.connectors.carrier.codes import static_lookup
from integrations.connectors.x12.acks import group_acknowledgement
from integrations.connectors.x12.mapping import parse_x12_file
from integrations.connectors.x12.outbound import deliver
from integrations.edi.x12 import parse_interchanges
from integrations.events import Problem
from integrations.models import AckWatch, Connection, InboundMessage, OutboxMessage
from integrations.outbox import outbox_dispatch
from integrations.services import inbound_message_replay
from operations.models import ExceptionCase
from operations.monitors import monitor_overdue_acknowledgements
from tests.integrations.helpers import deliver as deliver_inbound

pytestmark = pytest.mark.django_db

PARTNER = "partner-x12"
# A partner with its own component separator (>), on version 00401.
PARTNER_ISA = (
    "ISA*00*          *00*          *ZZ*PARTNERX       *ZZ*WAYBILL        "
    "*261204*1600*U*00401*{control}*0*P*>"
)


def x12(*segments: str, control: str = "000000777") -> bytes:
    """Return one interchange from the partner: its ISA, then ``segments``."""
    isa = PARTNER_ISA.format(control=control)
    return "".join(f"{segment}~\n" for segment in (isa, *segments)).encode()


@pytest.fixture
def partner(db, settings, tmp_path) -> Connection:
    settings.VAR_DIR = tmp_path
    return Connection.objects.create(
        code=PARTNER,
        name="Partner trading X12 files",
        kind=Connection.Kind.CARRIER,
        protocol=Connection.Protocol.X12_FILE,
        scac="PTNR",
        ack_window_minutes=60,
    )


def status_214(st02: str = "0001", *, count: int = 5) -> list[str]:
    return [
        f"ST*214*{st02}",
        "B10*PRO1*SHP-1*PTNR",
        "LX*1",
        "AT7*X3*NS***20261204*0930*UT",
        f"SE*{count}*{st02}",
    ]


def acks_sent() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(type="x12.997").order_by("pk"))


# --- Outbound 997s --------------------------------------------------------------


def test_inbound_group_gets_one_997_with_its_result(partner):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*31*X*004010",
            *status_214(),
            "GE*1*31",
            "IEA*1*000000777",
        ),  # noqa: E501
    )

    [ack] = acks_sent()
    assert (ack.destination.code, ack.subject, ack.idempotency_key) == (
        PARTNER,
        "997 for GS 31",
        "x12.997:partner-x12:PARTNERX:000000777:31",
    )
    envelope = ack.payload.pop("envelope")
    assert (envelope["interchange"], envelope["group"], envelope["transaction"]) == (
        1,
        1,
        1,
    )
    assert ack.payload == {
        "functional_id": "QM",
        "group": "31",
        "sets": [
            {
                "code": "214",
                "control": "0001",
                "status": "A",
                "codes": [],
                "segments": [],
            }
        ],
        "status": "A",
        "included": 1,
        "received": 1,
        "accepted": 1,
        "codes": [],
        "sender": {"qualifier": "ZZ", "id": "PARTNERX"},
        "receiver": {"qualifier": "ZZ", "id": "WAYBILL"},
    }


def test_997_file_is_addressed_back_to_the_sender(partner, tmp_path):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*31*X*004010",
            *status_214(),
            "GE*1*31",
            "IEA*1*000000777",
        ),  # noqa: E501
    )
    [ack] = acks_sent()

    outbox_dispatch(message_id=ack.pk)

    created = dt.datetime.fromisoformat(ack.payload["envelope"]["created_at"])
    short, long = created.strftime("%y%m%d*%H%M"), created.strftime("%Y%m%d*%H%M")
    body = (tmp_path / "outbound" / PARTNER / "000000001-997.x12").read_text()
    assert body == (
        "ISA*00*          *00*          *ZZ*WAYBILL        *ZZ*PARTNERX       "
        f"*{short}*U*00401*000000001*0*P*:~\n"
        f"GS*FA*WAYBILL*PARTNERX*{long}*1*X*004010~\n"
        "ST*997*0001~\n"
        "AK1*QM*31~\n"
        "AK2*214*0001~\n"
        "AK5*A~\n"
        "AK9*A*1*1*1~\n"
        "SE*6*0001~\n"
        "GE*1*1~\n"
        "IEA*1*000000001~\n"
    )
    assert AckWatch.objects.count() == 0


def test_processing_a_file_again_sends_no_second_997(partner):
    message = deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*31*X*004010",
            *status_214(),
            "GE*1*31",
            "IEA*1*000000777",
        ),  # noqa: E501
    )
    # The 214 names an unknown shipment: a business problem, still acknowledged.
    assert message.state == "needs_attention"

    replayed = inbound_message_replay(message_ids=[message.pk])
    from integrations.services import inbound_message_process

    inbound_message_process(message_id=message.pk)

    assert replayed == 1
    assert len(acks_sent()) == 1
    assert partner.x12_control_numbers.last_interchange == 1


def test_each_group_of_a_file_gets_its_own_997(partner):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*31*X*004010",
            *status_214("0001"),
            "GE*1*31",
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*32*X*004010",
            *status_214("0002"),
            "GE*1*32",
            "IEA*2*000000777",
        ),
    )

    assert [
        (a.payload["group"], a.payload["envelope"]["group"]) for a in acks_sent()
    ] == [
        ("31", 1),
        ("32", 2),
    ]


def test_envelope_failures_and_unsupported_sets_are_rejected_in_the_997(partner):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*40*X*004010",
            *status_214("0001"),
            *status_214("0002", count=9),
            "ST*810*0003",
            "BIG*20261204*INV-1",
            "SE*3*0003",
            "GE*2*40",
            "IEA*1*000000777",
        ),
    )

    [ack] = acks_sent()
    results = [(s["control"], s["status"], s["codes"]) for s in ack.payload["sets"]]
    assert results == [
        ("0001", "A", []),
        ("0002", "R", ["4"]),
        ("0003", "R", ["1"]),
    ]
    assert (
        ack.payload["status"],
        ack.payload["included"],
        ack.payload["received"],
        ack.payload["accepted"],
        ack.payload["codes"],
    ) == ("P", 2, 3, 1, ["5"])


def test_set_and_group_without_trailers_are_reported(partner):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*42*X*004010",
            *status_214("0001"),
            "ST*214*0002",
            "B10*PRO1*SHP-1*PTNR",
        ),
    )

    [ack] = acks_sent()
    results = [(s["control"], s["status"], s["codes"]) for s in ack.payload["sets"]]
    assert results == [("0001", "A", []), ("0002", "R", ["2"])]
    assert (ack.payload["status"], ack.payload["codes"]) == ("P", ["3"])


def test_whole_group_rejected_when_no_set_is_accepted(partner):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*IN*PARTNERX*WAYBILL*20261204*1600*41*X*004010",
            "ST*810*0001",
            "SE*2*0001",
            "GE*1*41",
            "IEA*1*000000777",
        ),  # noqa: E501
    )

    [ack] = acks_sent()
    assert (ack.payload["status"], ack.payload["accepted"]) == ("R", 0)


def test_n2_element_with_a_decimal_point_is_reported_with_ak3_and_ak4(
    partner, tmp_path
):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*IM*PARTNERX*WAYBILL*20250305*1200*55*X*004010",
            "ST*210*0001",
            "B3**INV-7781*PRO4455*PP**20250305*1482.75****ABCD",
            "C3*USD",
            "N1*BT*NORTHWIND RETAIL",
            "LX*1",
            "L5*1*MIXED FREIGHT",
            "L0*1***1250*G***4*PLT",
            "L1*1*2.35*PH*117500",
            "L1*2***30775****FUE",
            "L3*1250*G***148275",
            "SE*11*0001",
            "GE*1*55",
            "IEA*1*000000777",
        ),
    )
    [ack] = acks_sent()

    outbox_dispatch(message_id=ack.pk)

    body = (tmp_path / "outbound" / PARTNER / "000000001-997.x12").read_text()
    assert body.splitlines()[2:-2] == [
        "ST*997*0001~",
        "AK1*IM*55~",
        "AK2*210*0001~",
        "AK3*B3*2**8~",
        "AK4*7**6*1482.75~",
        "AK5*R*5~",
        "AK9*R*1*1*0~",
        "SE*8*0001~",
    ]


def test_element_error_named_only_by_reference_is_found_by_its_value():
    [interchange] = parse_interchanges(
        x12(
            "GS*IM*PARTNERX*WAYBILL*20250305*1200*55*X*004010",
            "ST*210*0001",
            "L1*1*2.35*PH*117500",
            "L1*2***307.75",
            "SE*4*0001",
            "GE*1*55",
            "IEA*1*000000777",
        )
    )
    problem = Problem(
        "invalid_value", "X12 210 ST 0001: L104 '307.75' has a decimal point (AK4 6)"
    )

    ack = group_acknowledgement(interchange, interchange.groups[0], problems=[problem])

    assert ack["sets"][0]["segments"] == [
        {
            "tag": "L1",
            "position": 3,
            "code": "8",
            "elements": [{"position": "4", "code": "6", "copy": "307.75"}],
        }
    ]


def test_a_997_is_never_acknowledged(partner):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*FA*PARTNERX*WAYBILL*20261204*1600*50*X*004010",
            "ST*997*0001",
            "AK1*SM*12345",
            "AK9*A*1*1*1",
            "SE*4*0001",
            "GE*1*50",
            "IEA*1*000000777",
        ),  # noqa: E501
    )

    assert acks_sent() == []


def test_partner_without_an_ack_window_still_gets_its_997(partner):
    Connection.objects.filter(pk=partner.pk).update(ack_window_minutes=0)

    deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*31*X*004010",
            *status_214(),
            "GE*1*31",
            "IEA*1*000000777",
        ),  # noqa: E501
    )

    [ack] = acks_sent()
    assert ack.subject == "997 for GS 31"


# --- Inbound 997s -----------------------------------------------------------------


@pytest.fixture
def tender_sent(partner) -> AckWatch:
    """Write a 204 to the partner; return the watch waiting for its 997."""
    message = OutboxMessage.objects.create(
        destination=partner,
        type="shipment.tender",
        subject="SH-7",
        payload={
            "shipment_number": "SH-7",
            "order_number": "SO-7",
            "carrier_scac": "PTNR",
            "ship_from": {"name": "DC East", "line1": "1 Dock Rd", "city": "Newark"},
            "ship_to": {"name": "Acme", "line1": "2 Main St", "city": "Columbus"},
            "packages": [{"weight_kg": "10"}],
            "pickup_date": "2026-12-08",
        },
        idempotency_key="tender:SH-7",
        correlation_id="SO-7",
        next_attempt_at=timezone.now(),
    )
    outbox_dispatch(message_id=message.pk)
    return AckWatch.objects.get(outbox_message=message)


def partner_997(*body: str, group: str = "1") -> bytes:
    return x12(
        "GS*FA*PARTNERX*WAYBILL*20261204*1615*90*X*004010",
        "ST*997*0001",
        f"AK1*SM*{group}",
        *body,
        f"SE*{len(body) + 3}*0001",
        "GE*1*90",
        "IEA*1*000000777",
    )


def test_accepting_997_closes_the_watch(tender_sent):
    message = deliver_inbound(
        PARTNER, partner_997("AK2*204*0001", "AK5*A", "AK9*A*1*1*1")
    )

    watch = AckWatch.objects.get(pk=tender_sent.pk)
    assert message.state == "processed"
    assert (watch.state, watch.acknowledged_at) == (
        "accepted",
        dt.datetime(2026, 12, 4, 16, 15, tzinfo=dt.UTC),
    )
    assert watch.detail == "AK9 A (accepted)\n204 ST 0001: AK5 A (accepted)"
    assert ExceptionCase.objects.count() == 0


def test_padded_group_number_in_ak1_still_finds_the_watch(tender_sent):
    deliver_inbound(PARTNER, partner_997("AK9*E*1*1*1", group="000000001"))

    assert AckWatch.objects.get(pk=tender_sent.pk).state == "accepted_errors"


def test_rejecting_997_opens_a_case_in_words(tender_sent):
    deliver_inbound(
        PARTNER,
        partner_997(
            "AK2*204*0001",
            "AK3*N1*7**8",
            "AK4*2**6*MULLER",
            "AK5*R*5",
            "AK9*R*1*1*0",
        ),
    )

    watch = AckWatch.objects.get(pk=tender_sent.pk)
    case = ExceptionCase.objects.get()
    assert watch.state == "rejected"
    assert (case.kind, case.reason_code, case.outbox_message_id) == (
        "rejected_ack",
        "AK9 R",
        tender_sent.outbox_message_id,
    )
    assert case.title == ("partner-x12 rejected GS 1 (shipment.tender SH-7): rejected")
    assert case.detail == (
        "AK9 R (rejected)\n"
        "204 ST 0001: AK5 R (rejected): 5 one or more segments in error; "
        "segment N1 at 7: segment has data element errors, "
        "element 2 invalid character in data element ('MULLER')"
    )


def test_accepting_997_after_a_rejection_resolves_its_case(tender_sent):
    deliver_inbound(PARTNER, partner_997("AK9*R*1*1*0*5"))
    deliver_inbound(
        PARTNER,
        partner_997("AK9*A*1*1*1").replace(b"000000777", b"000000778"),
    )

    case = ExceptionCase.objects.get()
    assert AckWatch.objects.get(pk=tender_sent.pk).state == "accepted"
    assert (case.kind, case.state) == ("rejected_ack", "resolved")


def test_997_for_a_group_never_sent_needs_attention(tender_sent):
    message = deliver_inbound(PARTNER, partner_997("AK9*A*1*1*1", group="999"))

    case = ExceptionCase.objects.get()
    assert message.state == "needs_attention"
    assert message.error == (
        "x12.acknowledged GS 999: 997 acknowledges GS 999, which the hub never "
        "sent to partner-x12"
    )
    assert case.kind == "unknown_reference"
    assert AckWatch.objects.get(pk=tender_sent.pk).state == "waiting"


def test_997_without_a_result_is_refused_with_a_reason(tender_sent):
    message = deliver_inbound(PARTNER, partner_997("AK2*204*0001", "AK5*A"))

    assert message.state == "needs_attention"
    assert message.error == "X12 997 ST 0001: AK901 (missing) is not a result code"


# --- The delayed-acknowledgement monitor -------------------------------------------


def overdue(watch: AckWatch) -> None:
    AckWatch.objects.filter(pk=watch.pk).update(
        due_at=timezone.now() - dt.timedelta(minutes=1)
    )


def test_overdue_watch_is_marked_and_opens_one_case(tender_sent):
    overdue(tender_sent)

    first = monitor_overdue_acknowledgements()
    second = monitor_overdue_acknowledgements()

    watch = AckWatch.objects.get(pk=tender_sent.pk)
    case = ExceptionCase.objects.get()
    assert (first, second) == (1, 0)
    assert watch.state == "overdue"
    assert (case.kind, case.state, case.outbox_message_id) == (
        "delayed_ack",
        "open",
        tender_sent.outbox_message_id,
    )
    assert case.title == (
        f"No 997 from partner-x12 for GS 1 (shipment.tender SH-7), due "
        f"{watch.due_at:%Y-%m-%d %H:%M} UTC"
    )


def test_late_997_closes_the_overdue_watch_and_resolves_its_case(tender_sent):
    overdue(tender_sent)
    monitor_overdue_acknowledgements()

    deliver_inbound(PARTNER, partner_997("AK9*A*1*1*1"))

    case = ExceptionCase.objects.get()
    assert AckWatch.objects.get(pk=tender_sent.pk).state == "accepted"
    assert (case.kind, case.state) == ("delayed_ack", "resolved")


def test_watch_within_its_window_or_not_yet_delivered_is_left_alone(partner):
    message = OutboxMessage.objects.create(
        destination=partner,
        type="shipment.tender",
        subject="SH-8",
        payload={},
        idempotency_key="tender:SH-8",
        next_attempt_at=timezone.now(),
    )
    past = timezone.now() - dt.timedelta(hours=2)
    AckWatch.objects.create(
        connection=partner,
        outbox_message=message,
        interchange_control="000000009",
        group_control="9",
        functional_id="SM",
        sent_at=past,
        due_at=past,
    )
    AckWatch.objects.create(
        connection=partner,
        interchange_control="000000010",
        group_control="10",
        functional_id="SM",
        sent_at=past,
        due_at=timezone.now() + dt.timedelta(minutes=5),
    )

    assert monitor_overdue_acknowledgements() == 0
    assert set(AckWatch.objects.values_list("state", flat=True)) == {"waiting"}


def test_monitor_queries_grow_by_a_fixed_amount_per_overdue_watch(tender_sent):
    overdue(tender_sent)
    with CaptureQueriesContext(db_connection) as one_due:
        monitor_overdue_acknowledgements()
    for number in (2, 3, 4):
        watch = AckWatch.objects.get(pk=tender_sent.pk)
        watch.pk, watch.group_control, watch.state = None, str(number), "waiting"
        watch.save()
        overdue(watch)

    with CaptureQueriesContext(db_connection) as three_due:
        assert monitor_overdue_acknowledgements() == 3

    # One read, then per watch the conditional update and the case upsert
    # (with its savepoints); nothing that grows with related rows.
    per_watch = (len(three_due) - 1) / 3
    assert len(one_due) - 1 == per_watch
    assert per_watch <= 10


def test_retry_to_the_partner_reuses_the_watchs_numbers(tender_sent, tmp_path):
    message = tender_sent.outbox_message
    first = (tmp_path / "outbound" / PARTNER / "000000001-204.x12").read_bytes()
    (tmp_path / "outbound" / PARTNER / "000000001-204.x12").unlink()

    assert deliver(message=message) == (201, "")
    assert (tmp_path / "outbound" / PARTNER / "000000001-204.x12").read_bytes() == first
    assert InboundMessage.objects.count() == 0


def test_hubs_own_997_reads_back_through_the_997_mapper(partner, tmp_path):
    deliver_inbound(
        PARTNER,
        x12(
            "GS*QM*PARTNERX*WAYBILL*20261204*1600*40*X*004010",
            *status_214("0001"),
            *status_214("0002", count=9),
            "GE*2*40",
            "IEA*1*000000777",
        ),
    )
    [ack] = acks_sent()
    outbox_dispatch(message_id=ack.pk)
    written = (tmp_path / "outbound" / PARTNER / "000000001-997.x12").read_bytes()

    result = parse_x12_file(written, source="echo", lookup=static_lookup({}))

    [event] = result.events
    assert result.problems == []
    assert (event.type, event.subject) == ("x12.acknowledged", "GS 40")
    assert event.data == {
        "functional_id": "QM",
        "group": "40",
        "status": "P",
        "included": "2",
        "received": "2",
        "accepted": "1",
        "codes": [],
        "sets": [
            {
                "code": "214",
                "control": "0001",
                "status": "A",
                "codes": [],
                "segments": [],
            },
            {
                "code": "214",
                "control": "0002",
                "status": "R",
                "codes": ["4"],
                "segments": [],
            },
        ],
        "interchange": "000000001",
    }


def test_seeded_3pl_gets_a_997_for_its_945(seeded, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    advice = Path(__file__).parents[1] / "fixtures" / "x12" / "945-two-cartons.edi"

    deliver_inbound("wms-3pl", advice.read_bytes())
    [ack] = acks_sent()
    outbox_dispatch(message_id=ack.pk)

    body = (tmp_path / "outbound" / "wms-3pl" / "000000001-997.x12").read_text()
    assert ack.idempotency_key == "x12.997:wms-3pl:WMSEAST:000000945:945"
    assert body.splitlines()[0].split("*")[5:9] == [
        "ZZ",
        "WAYBILL        ",
        "ZZ",
        "WMSEAST        ",
    ]
    assert body.splitlines()[2:-2] == [
        "ST*997*0001~",
        "AK1*SW*945~",
        "AK2*945*0001~",
        "AK5*A~",
        "AK9*A*1*1*1~",
        "SE*6*0001~",
    ]


def test_two_senders_with_the_same_numbers_each_get_their_997(partner):
    group = ("GS*QM*PARTNERX*WAYBILL*20261204*1600*31*X*004010", *status_214())
    deliver_inbound(PARTNER, x12(*group, "GE*1*31", "IEA*1*000000777"))
    other = x12(*group, "GE*1*31", "IEA*1*000000777").replace(
        b"PARTNERX       ", b"PARTNERY       ", 1
    )

    deliver_inbound(PARTNER, other)

    assert sorted(ack.idempotency_key for ack in acks_sent()) == [
        "x12.997:partner-x12:PARTNERX:000000777:31",
        "x12.997:partner-x12:PARTNERY:000000777:31",
    ]
