"""X12 files split into interchanges whatever their delimiters (B09, B11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.edi.x12 import NEWLINE, Delimiters, parse_interchanges

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"

ISA_214 = (
    "ISA*00*          *00*          *ZZ*CARRIERX       *ZZ*WAYBILL        "
    "*250301*1200*^*00501*000000214*0*P*:"
)
B09_BODY = [
    "GS*QM*CARRIERX*WAYBILL*20250301*1200*214*X*005010",
    "ST*214*0001",
    "B10*PRO5551234*SHP-1001*CRRX",
    "N1*CN*KOPI TRADERS PTE LTD",
    "N4*SINGAPORE**018956*SG",
    "LX*1",
    "AT7*X3*NS***20250301*0930*LT",
    "MS1*SINGAPORE**SG",
    "SE*8*0001",
    "GE*1*214",
    "IEA*1*000000214",
]
B09_SEGMENTS = [ISA_214, *B09_BODY]


def b09_encodings() -> dict[str, bytes]:
    """Return the four encodings of the B09 214 that CASES.md names."""
    tilde_crlf = "".join(f"{segment}~\r\n" for segment in B09_SEGMENTS)
    return {
        "tilde": "".join(f"{segment}~" for segment in B09_SEGMENTS).encode(),
        "tilde-crlf": tilde_crlf.encode(),
        "newline": "".join(f"{segment}\n" for segment in B09_SEGMENTS).encode(),
        "bom-blank-lines": b"\xef\xbb\xbf" + tilde_crlf.encode() + b"\r\n\r\n",
    }


def interchange_text(*body: str, isa: str = ISA_214, terminator: str = "~") -> bytes:
    """Join an ISA and body segments with a terminator, as bytes."""
    return "".join(f"{segment}{terminator}" for segment in (isa, *body)).encode()


def b11_file() -> bytes:
    """Return two 214 interchanges back to back with 'ISA' inside values."""
    first = interchange_text(
        *_b11_body("000000301", "N1*CN*ISAAC BROS FREIGHT", "N3*12 ISABELLA ST"),
        isa=ISA_214.replace("000000214", "000000301"),
    )
    second = interchange_text(
        *_b11_body("000000302", "N1*SH*LISA*", "N3*1 MAIN ST"),
        isa=ISA_214.replace("000000214", "000000302"),
    )
    return first + b"\r\n" + second


def _b11_body(control: str, name: str, street: str) -> list[str]:
    return [
        f"GS*QM*CARRIERX*WAYBILL*20250301*1200*{int(control)}*X*005010",
        "ST*214*0001",
        "B10*PRO1*SHP-1*CRRX",
        name,
        street,
        "SE*5*0001",
        f"GE*1*{int(control)}",
        f"IEA*1*{control}",
    ]


def _shape(raw: bytes) -> list[tuple]:
    """Return what a reader of the result depends on, per interchange."""
    return [
        (
            interchange.control_number,
            interchange.delimiters.component if interchange.delimiters else None,
            [
                (ts.st01, ts.st02, ts.segments, ts.errors)
                for ts in interchange.transaction_sets
            ],
            interchange.warnings,
            interchange.errors,
        )
        for interchange in parse_interchanges(raw)
    ]


@pytest.mark.parametrize(
    "encoding", ["tilde", "tilde-crlf", "newline", "bom-blank-lines"]
)
def test_b09_every_encoding_gives_one_interchange_with_one_transaction(encoding):
    raw = b09_encodings()[encoding]

    interchanges = parse_interchanges(raw)

    assert len(interchanges) == 1
    interchange = interchanges[0]
    assert interchange.control_number == "000000214"
    assert interchange.sender == "CARRIERX"
    assert interchange.receiver == "WAYBILL"
    assert interchange.warnings == []
    assert interchange.errors == []
    [transaction] = interchange.transaction_sets
    assert (transaction.st01, transaction.st02, transaction.accepted) == (
        "214",
        "0001",
        True,
    )
    assert transaction.segments[2] == ["N1", "CN", "KOPI TRADERS PTE LTD"]
    assert transaction.segments[3] == ["N4", "SINGAPORE", "", "018956", "SG"]


def test_b09_every_encoding_gives_the_same_segments():
    shapes = {name: _shape(raw) for name, raw in b09_encodings().items()}

    assert shapes["tilde-crlf"] == shapes["tilde"]
    assert shapes["newline"] == shapes["tilde"]
    assert shapes["bom-blank-lines"] == shapes["tilde"]


def test_b09_delimiters_are_read_from_the_isa():
    tilde, newline = (
        parse_interchanges(b09_encodings()[name])[0].delimiters
        for name in ("tilde", "newline")
    )

    assert tilde == Delimiters(element="*", component=":", segment="~", repetition="^")
    assert newline == Delimiters(
        element="*", component=":", segment=NEWLINE, repetition="^"
    )


def test_b11_isa_inside_a_value_never_starts_an_interchange():
    interchanges = parse_interchanges(b11_file())

    assert [i.control_number for i in interchanges] == ["000000301", "000000302"]
    assert [len(i.transaction_sets) for i in interchanges] == [1, 1]
    first, second = (i.transaction_sets[0].segments for i in interchanges)
    assert first[2:4] == [["N1", "CN", "ISAAC BROS FREIGHT"], ["N3", "12 ISABELLA ST"]]
    assert second[2] == ["N1", "SH", "LISA", ""]
    assert [i.warnings + i.errors for i in interchanges] == [[], []]


def test_each_interchange_keeps_its_own_delimiters():
    pipes = ISA_214.replace("*", "|").replace("|:", "|>")
    raw = interchange_text(*B09_BODY) + interchange_text(
        *(segment.replace("*", "|") for segment in B09_BODY),
        isa=pipes,
        terminator="\n",
    )

    interchanges = parse_interchanges(raw)

    assert [i.delimiters for i in interchanges] == [
        Delimiters("*", ":", "~", "^"),
        Delimiters("|", ">", NEWLINE, "^"),
    ]
    assert [i.transaction_sets[0].segments[1] for i in interchanges] == [
        ["B10", "PRO5551234", "SHP-1001", "CRRX"],
        ["B10", "PRO5551234", "SHP-1001", "CRRX"],
    ]


def test_hard_wrapped_file_reads_like_the_unwrapped_one():
    flat = interchange_text(*B09_BODY).decode()
    # Breaks land inside the ISA, inside tags and inside numbers.
    wrapped = "\r\n".join(flat[start : start + 80] for start in range(0, len(flat), 80))

    assert _shape(wrapped.encode()) == _shape(flat.encode())


def test_wrap_between_isa16_and_the_terminator_is_not_a_newline_terminator():
    flat = interchange_text(*B09_BODY).decode()
    wrapped = flat.replace("*P*:~", "*P*:\n~", 1)

    [interchange] = parse_interchanges(wrapped.encode())

    assert interchange.delimiters == Delimiters("*", ":", "~", "^")
    assert _shape(wrapped.encode()) == _shape(flat.encode())


def test_ebcdic_file_reads_like_the_ascii_one():
    # EBCDIC's NL (0x15) ends each segment; it decodes to U+0085.
    ebcdic = "".join(f"{s}\x85" for s in B09_SEGMENTS).encode("cp037")

    assert ebcdic[:3] != b"ISA"
    assert _shape(ebcdic)[0][2] == _shape(interchange_text(*B09_BODY))[0][2]


def test_repetition_separator_only_from_version_00402():
    old = ISA_214.replace("00501", "00401")

    [interchange] = parse_interchanges(interchange_text(*B09_BODY, isa=old))

    assert interchange.delimiters == Delimiters("*", ":", "~", None)


def test_indentation_and_blank_segments_are_ignored():
    raw = interchange_text(*B09_BODY, terminator="~\r\n    ~")

    assert _shape(raw) == _shape(interchange_text(*B09_BODY))


CORPUS_DELIMITERS = [
    ("214-staedi-ellipsis-terminator.edi", Delimiters("*", ">", "\u2026")),
    ("850-bots-004030-nak-terminator.edi", Delimiters("*", ":", "\x15")),
    ("850-bots-ebcdic.edi", Delimiters("*", ">", "\x85")),
    ("322-oopfactory-bnsf-cr-terminator.edi", Delimiters("*", "~", NEWLINE)),
    ("810-oopfactory-walmart-newline.edi", Delimiters("*", ">", NEWLINE)),
    ("850-nodex12-newline-terminated.edi", Delimiters("*", ">", NEWLINE)),
    ("856-stupidedi-002001-bang-terminator.edi", Delimiters("*", "@", "!")),
    ("990-nodex12edi-accept-decline-counter.edi", Delimiters("*", ">", NEWLINE)),
    ("invalid-gtlogistics-trimmed-isa.edi", Delimiters("*", "`", "~")),
    ("210-staedi-wrapped-80col.edi", Delimiters("*", ">", "~")),
    ("210-omniparser-ups.edi", Delimiters("*", ">", "|")),
    ("210-oopfactory-dbschenker-dot-terminator.edi", Delimiters("*", ":", ".")),
    ("810-stupidedi-pipe-separator.edi", Delimiters("|", ">", "~")),
    ("846-oopfactory-broken-terminators.edi", Delimiters("~", ">", "*")),
    ("846-oopfactory-tilde-elements.edi", Delimiters("~", ">", "}")),
    ("850-oopfactory-pipe-terminator.edi", Delimiters("*", "~", "|")),
    ("856-oopfactory-tilde-elements-backtick.edi", Delimiters("~", "`", "*")),
    ("856-stupidedi-dollar-terminator.edi", Delimiters("*", "{", "$")),
    ("856-bots-sscc-pack.edi", Delimiters("*", ">", "~", "^")),
    ("856-nodex12-004060.edi", Delimiters("*", ">", "~", "-")),
    ("110-oopfactory-fedex-air-invoice.edi", Delimiters("*", ":", "~")),
]


@pytest.mark.parametrize(("name", "delimiters"), CORPUS_DELIMITERS)
def test_corpus_delimiters_are_found_by_position(corpus, name, delimiters):
    raw = (corpus / "x12" / name).read_bytes()

    assert parse_interchanges(raw)[0].delimiters == delimiters


def test_trimmed_isa_reads_its_fields(corpus):
    raw = (corpus / "x12" / "856-stupidedi-002001-bang-terminator.edi").read_bytes()

    [interchange] = parse_interchanges(raw)

    assert interchange.isa[:9] == [
        "ISA",
        "00",
        " ",
        "00",
        " ",
        "01",
        "054481205 ",
        "01",
        "123456789 ",
    ]
    assert (interchange.sender, interchange.control_number) == (
        "054481205",
        "000000001",
    )
    assert [ts.st02 for ts in interchange.transaction_sets] == ["0001", "0002"]


def test_wrapped_corpus_file_keeps_numbers_whole(corpus):
    raw = (corpus / "x12" / "210-staedi-wrapped-80col.edi").read_bytes()

    [interchange] = parse_interchanges(raw)

    [transaction] = interchange.transaction_sets
    assert interchange.isa[10] == "0224"
    assert transaction.st02 == "1305"
    assert transaction.errors == []


# --- Envelope rule -------------------------------------------------------------

GS = "GS*QM*CARRIERX*WAYBILL*20250301*1200*214*X*005010"
ST_SE = ["ST*214*0001", "B10*PRO1*SHP-1*CRRX", "SE*3*0001"]


def _one(*body: str):
    [interchange] = parse_interchanges(interchange_text(*body))
    return interchange


def test_wrong_se01_rejects_the_transaction_set():
    interchange = _one(
        GS,
        "ST*214*0001",
        "B10*PRO1*SHP-1*CRRX",
        "SE*12*0001",
        "GE*1*214",
        "IEA*1*000000214",
    )

    [transaction] = interchange.transaction_sets
    assert transaction.accepted is False
    assert transaction.errors == [
        "X12 214 ST 0001 (ISA 000000214): SE01 says 12 segments, found 3"
    ]
    assert interchange.warnings == []


def test_wrong_se02_rejects_the_transaction_set():
    interchange = _one(
        GS,
        "ST*214*0001",
        "B10*PRO1*SHP-1*CRRX",
        "SE*3*0002",
        "GE*1*214",
        "IEA*1*000000214",
    )

    assert interchange.transaction_sets[0].errors == [
        "X12 214 ST 0001 (ISA 000000214): SE02 says 0002"
    ]


def test_missing_se_rejects_the_transaction_set_and_warns_of_missing_trailers():
    interchange = _one(GS, "ST*214*0001", "B10*PRO1*SHP-1*CRRX")

    assert interchange.transaction_sets[0].errors == [
        "X12 214 ST 0001 (ISA 000000214): no SE trailer"
    ]
    assert interchange.warnings == [
        "GS 214: no GE trailer",
        "ISA 000000214: no IEA trailer",
    ]


def test_group_and_interchange_mismatches_are_warnings_and_data_is_used():
    interchange = _one(GS, *ST_SE, "GE*2*215", "IEA*3*000000999")

    assert interchange.transaction_sets[0].accepted is True
    assert interchange.warnings == [
        "GS 214: GE01 says 2 transaction sets, found 1",
        "GS 214: GE02 says 215",
        "ISA 000000214: IEA01 says 3 functional groups, found 1",
        "ISA 000000214: IEA02 says 000000999",
    ]
    assert interchange.errors == []


def test_control_numbers_compare_as_integers():
    interchange = _one(
        GS.replace("*214*X", "*00214*X"), *ST_SE, "GE*1*214", "IEA*1*214"
    )

    assert interchange.warnings == []


def test_segments_outside_a_transaction_set_are_reported():
    interchange = _one(GS, "TA1*X", *ST_SE, "GE*1*214", "IEA*1*000000214", "ZZZ*1")

    assert interchange.warnings == [
        "ISA 000000214: 2 segments outside a transaction set were ignored (TA1, ZZZ)"
    ]


def test_transaction_set_outside_a_group_is_kept_with_a_warning():
    interchange = _one(*ST_SE, "IEA*0*000000214")

    assert [ts.accepted for ts in interchange.transaction_sets] == [True]
    assert interchange.warnings == ["ST 0001: outside a functional group"]


def test_interchange_without_transaction_sets_is_an_error(corpus):
    raw = (corpus / "x12" / "invalid-gtlogistics-trimmed-isa.edi").read_bytes()

    [interchange] = parse_interchanges(raw)

    assert interchange.errors == ["ISA 000011111: no transaction set"]
    assert interchange.warnings == ["ISA 000011111: no IEA trailer"]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "no ISA segment: the file is not an X12 interchange"),
        (b"GS*QM*A*B~ST*214*1~", "no ISA segment: the file is not an X12 interchange"),
        (
            b"ISA*00*          *00*~GS*QM~",
            "ISA too short to read the delimiters: found 5 of 16 element separators",
        ),
        (
            ISA_214.removesuffix("*:").encode() + b"\nGS*QM*A*B*1*2*3*X*4\n",
            "ISA component separator (ISA16) 'Q' is a letter, digit or space: "
            "the ISA is too short or malformed",
        ),
        (
            ISA_214.encode(),
            "ISA ends before its segment terminator",
        ),
        (
            ISA_214.replace("*:", "**").encode() + b"~",
            "ISA delimiters are not distinct: element separator '*', "
            "component separator (ISA16) '*', segment terminator '~'",
        ),
    ],
)
def test_unreadable_input_is_a_readable_error(raw, error):
    interchanges = parse_interchanges(raw)

    assert [(i.isa, i.delimiters, i.errors) for i in interchanges] == [
        ([], None, [error])
    ]


def test_text_before_the_first_isa_is_ignored_with_a_warning():
    raw = b"HEADER FROM VAN\r\n" + interchange_text(*B09_BODY)

    [interchange] = parse_interchanges(raw)

    assert interchange.warnings == ["15 characters before the first ISA were ignored"]
    assert len(interchange.transaction_sets) == 1


# --- Robustness ----------------------------------------------------------------


def _seeds() -> list[bytes]:
    return [
        *b09_encodings().values(),
        b11_file(),
        (FIXTURES / "856-two-cartons.edi").read_bytes(),
        (FIXTURES / "945-two-cartons.edi").read_bytes(),
    ]


@st.composite
def mutated(draw) -> bytes:
    """Return one of the fixtures with a few bytes replaced, dropped or added."""
    data = bytearray(draw(st.sampled_from(_seeds())))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
        byte = draw(
            st.sampled_from(list(b"*~:^>\r\n \x85\x15ISAGSE0189") + [0xE2, 0xFF])
        )
        if action == "replace" and data:
            data[position] = byte
        elif action == "delete" and data:
            del data[position]
        elif action == "insert":
            data.insert(position, byte)
        else:
            del data[position:]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_never_raise(raw):
    interchanges = parse_interchanges(raw)

    assert interchanges
    for interchange in interchanges:
        assert all(
            isinstance(e, str) for e in interchange.errors + interchange.warnings
        )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw):
    assert parse_interchanges(raw)
