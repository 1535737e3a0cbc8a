"""The X12 writer: fixed-width ISA, right counts, data that cannot break out."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.connectors.x12.outbound import build_940
from integrations.edi.writer import (
    Envelope,
    Profile,
    TransactionBody,
    X12WriteError,
    fit,
    scrub,
    write_interchange,
)
from integrations.edi.x12 import parse_interchanges

CREATED = dt.datetime(2026, 12, 4, 15, 30, tzinfo=dt.UTC)
# CASES B14's partner: delimiters * : ~ ^ (ISA11 declares ^ from 00402 on).
B14_PROFILE = Profile(
    sender_id="WAYBILL",
    receiver_id="3PLWMS",
    isa_version="00501",
    gs_version="005010",
)
B14_NAME = "Müller & Söhne *Nord* ~Halle 3~"
B14_STREET = "Hauptstraße 5:7^B"


def b14_payload() -> dict:
    return {
        "order_number": "SO-1001",
        "account_number": "ZETA",
        "ship_from": "DC-EAST",
        "ship_to": {
            "name": B14_NAME,
            "line1": B14_STREET,
            "city": "Köln",
            "state": "",
            "postal_code": "50667",
            "country": "DE",
        },
        "requested_date": "2026-12-07",
        "lines": [
            {"line_number": 1, "sku": "SKU-B", "quantity": "2.000", "unit": "EA"},
            {"line_number": 2, "sku": "SKU-C", "quantity": "36.000", "unit": "CS"},
        ],
    }


def write_940(payload: dict, profile: Profile = B14_PROFILE) -> bytes:
    written = write_interchange(
        profile=profile,
        envelope=Envelope(42, 42, (7,), CREATED),
        functional_id="OW",
        sets=[TransactionBody("940", build_940(payload, profile))],
    )
    return written.body


def test_b14_ship_to_is_written_as_ascii_without_delimiters():
    body = write_940(b14_payload())

    assert body.decode("ascii") == (
        "ISA*00*          *00*          *ZZ*WAYBILL        *ZZ*3PLWMS         "
        "*261204*1530*^*00501*000000042*0*P*:~\n"
        "GS*OW*WAYBILL*3PLWMS*20261204*1530*42*X*005010~\n"
        "ST*940*0007~\n"
        "W05*N*SO-1001~\n"
        "N1*ST*MULLER & SOHNE NORD HALLE 3~\n"
        "N3*HAUPTSTRASSE 5 7 B~\n"
        "N4*KOLN**50667*DE~\n"
        "N1*SF**ZZ*DC-EAST~\n"
        "N9*11*ZETA~\n"
        "G62*10*20261207~\n"
        "LX*1~\n"
        "W01*2*EA**SK*SKU-B~\n"
        "LX*2~\n"
        "W01*36*CA**SK*SKU-C~\n"
        "W76*38~\n"
        "SE*14*0007~\n"
        "GE*1*42~\n"
        "IEA*1*000000042~\n"
    )


def test_b14_output_reparses_with_two_element_n1_and_right_counts():
    body = write_940(b14_payload())

    [interchange] = parse_interchanges(body)
    [group] = interchange.groups
    [transaction] = group.transaction_sets
    ship_to = next(s for s in transaction.segments if s[:2] == ["N1", "ST"])
    assert body.isascii() is True
    assert len(body.split(b"\n")[0]) == 106
    assert ship_to == ["N1", "ST", "MULLER & SOHNE NORD HALLE 3"]
    assert len(ship_to) - 1 == 2
    assert interchange.errors == []
    assert interchange.warnings == []
    assert transaction.errors == []
    assert transaction.segments[-1] == ["SE", "14", "0007"]
    assert interchange.delimiters.repetition == "^"
    assert (interchange.control_number, group.control_number) == ("000000042", "42")


def test_b14_data_holds_no_delimiter_of_the_partner():
    body = write_940(b14_payload()).decode("ascii")

    data = [
        element
        for line in body.splitlines()[1:]
        for element in line.rstrip("~").split("*")[1:]
    ]
    assert [e for e in data if set(e) & set(":~^*")] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Müller & Söhne *Nord* ~Halle 3~", "MULLER & SOHNE NORD HALLE 3"),
        ("Hauptstraße 5:7^B", "HAUPTSTRASSE 5 7 B"),
        ("Łódź ½ kg", "LODZ 1/2 KG"),
        ("Tab\there\r\nnewline", "TAB HERE NEWLINE"),
        ("50 % off @ store #4", "50 OFF STORE 4"),
        ("東京", "DONGJING"),
        ("", ""),
    ],
)
def test_scrub_gives_basic_character_set_data(value, expected):
    assert scrub(value, profile=B14_PROFILE) == expected


def test_extended_character_set_keeps_case_and_still_drops_delimiters():
    profile = Profile(sender_id="WAYBILL", receiver_id="P", extended=True)

    assert (
        scrub("Müller@Nord #4 a*b:c~d^e", profile=profile) == "Muller@Nord #4 a b c d e"
    )


def test_the_partners_own_delimiters_are_scrubbed_and_the_defaults_kept():
    profile = Profile(
        sender_id="WAYBILL", receiver_id="P", element="|", component=">", segment="!"
    )

    # * and : are basic characters, free for data here; ~ is not basic.
    assert scrub("A*B:C~D|E>F!G^H", profile=profile) == "A*B:C D E F G H"


def test_fit_cuts_after_transliteration():
    assert fit("Straße ½", 9, profile=B14_PROFILE) == "STRASSE 1"


def test_trailing_empty_elements_and_empty_segments_are_not_written():
    profile = Profile(sender_id="WAYBILL", receiver_id="P", line_break=False)
    body = write_interchange(
        profile=profile,
        envelope=Envelope(1, 2, (3,), CREATED),
        functional_id="OW",
        sets=[
            TransactionBody(
                "940",
                [
                    ("N1", "ST", "ACME", None, ""),
                    ("N3", "", None),
                    ("N4", "~", "*"),
                    ("AK4", ("4", "1", ""), None, "6"),
                ],
            )
        ],
    ).body.decode()

    assert body.endswith(
        "ST*940*0003~N1*ST*ACME~AK4*4:1**6~SE*4*0003~GE*1*2~IEA*1*000000001~"
    )


def test_isa_before_00402_carries_u_in_isa11_and_is_fixed_width():
    profile = Profile(
        sender_id="WAYBILL", receiver_id="ABC", receiver_qualifier="02", usage="T"
    )
    body = write_interchange(
        profile=profile,
        envelope=Envelope(999_999_999, 1, (1,), CREATED),
        functional_id="SM",
        sets=[TransactionBody("204", [("B2A", "00")])],
    ).body

    isa = body.split(b"\n")[0].decode()
    assert isa == (
        "ISA*00*          *00*          *ZZ*WAYBILL        *02*ABC            "
        "*261204*1530*U*00401*999999999*0*T*:~"
    )
    assert len(isa) == 106


def test_several_sets_in_one_group_are_counted_in_ge01():
    body = write_interchange(
        profile=B14_PROFILE,
        envelope=Envelope(5, 6, (10, 11), CREATED),
        functional_id="OW",
        sets=[
            TransactionBody("940", [("W05", "N", "A")]),
            TransactionBody("940", [("W05", "N", "B")]),
        ],
    ).body

    [interchange] = parse_interchanges(body)
    assert [ts.st02 for ts in interchange.transaction_sets] == ["0010", "0011"]
    assert body.decode().endswith("SE*3*0011~\nGE*2*6~\nIEA*1*000000005~\n")
    assert interchange.warnings == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"component": "*"}, "delimiters are not distinct"),
        ({"segment": "A"}, "'A' cannot be an X12 delimiter"),
        ({"repetition": " "}, "' ' cannot be an X12 delimiter"),
        (
            {"receiver_id": "A" * 16},
            "receiver_id 'AAAAAAAAAAAAAAAA' is not a valid ISA id",
        ),
        ({"sender_id": "way*bill"}, "sender_id 'way\\*bill' is not a valid ISA id"),
    ],
)
def test_profile_that_cannot_give_a_valid_interchange_is_refused(options, message):
    with pytest.raises(X12WriteError, match=message):
        Profile(**{"sender_id": "WAYBILL", "receiver_id": "P", **options})


def test_control_number_beyond_nine_digits_is_refused():
    with pytest.raises(X12WriteError, match="control number 1000000000 is outside"):
        Envelope(1_000_000_000, 1, (1,), CREATED)


@given(name=st.text(max_size=80), street=st.text(max_size=80))
def test_any_unicode_name_gives_a_two_element_n1_and_pure_ascii(name, street):
    payload = b14_payload()
    payload["ship_to"] = {**payload["ship_to"], "name": name + "x", "line1": street}

    body = write_940(payload)

    [interchange] = parse_interchanges(body)
    [transaction] = interchange.transaction_sets
    ship_to = next(s for s in transaction.segments if s[:2] == ["N1", "ST"])
    assert body.isascii() is True
    assert len(ship_to) == 3
    assert transaction.errors == []
    assert interchange.warnings == []
