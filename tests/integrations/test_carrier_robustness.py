"""Carrier and EDIFACT parsers never raise: damaged input becomes a problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from integrations.connectors.carrier.mapping import (
    CARRIER_PARSERS,
    parse_carrier_webhook,
)
from integrations.connectors.edifact.mapping import parse_edifact_file
from integrations.events import Problem

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "edifact"

if not CORPUS.is_dir():
    pytest.skip(f"the shared corpus is not at {CORPUS}", allow_module_level=True)

CARRIER_FILES = sorted(
    path
    for folder in ("carrier-tracking", "webhooks", "standards")
    for path in (CORPUS / folder).iterdir()
)
EDIFACT_FILES = sorted((CORPUS / "edifact").iterdir()) + sorted(FIXTURES.iterdir())
CONNECTIONS = [f"carrier-{name}" for name in CARRIER_PARSERS] + ["carrier-crx"]
# Characters that are syntax somewhere: EDIFACT separators, XML and JSON.
SYNTAX = b"'+:?<>\"{}[],\n&;"


def _always_in_transit(category: str, source: str, code: str) -> str:
    return "in_transit"


@st.composite
def damaged(draw, files: list[Path]) -> bytes:
    """Return a corpus file with a few bytes changed, inserted, cut or dropped."""
    body = bytearray(draw(st.sampled_from(files)).read_bytes())
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if action == "replace" and body:
            body[min(at, len(body) - 1)] = draw(st.integers(0, 255))
        elif action == "insert":
            body[at:at] = bytes([draw(st.sampled_from(SYNTAX))])
        elif action == "delete":
            del body[at : at + draw(st.integers(1, 40))]
        else:
            del body[at:]
    return bytes(body)


def _readable(problems: list[Problem]) -> bool:
    return all(problem.code and problem.reason for problem in problems)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(body=damaged(CARRIER_FILES), connection=st.sampled_from(CONNECTIONS))
def test_damaged_carrier_body_never_raises(body, connection):
    result = parse_carrier_webhook(
        body, source=connection, carrier_scac="", lookup=_always_in_transit
    )

    assert _readable(result.problems)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(body=damaged(EDIFACT_FILES))
def test_damaged_edifact_file_never_raises(body):
    result = parse_edifact_file(body, source="edi-edifact", lookup=_always_in_transit)

    assert _readable(result.problems)


def test_xml_declaring_an_unknown_encoding_is_an_invalid_message():
    body = b'<?xml version="1.0" encoding="UTF-H"?><TrackResponse/>'

    result = parse_carrier_webhook(
        body, source="carrier-usps", carrier_scac="", lookup=_always_in_transit
    )

    assert [(p.code, p.reason.split(":")[0]) for p in result.problems] == [
        ("invalid_message", "USPS XML declares an unknown encoding")
    ]


@pytest.mark.parametrize(
    "connection", [code for code in CONNECTIONS if code != "carrier-canadapost"]
)
@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"tracking_number": ' + b"9" * 5000 + b"}"],
    ids=["deep-nesting", "huge-integer"],
)
def test_json_too_deep_or_too_long_is_an_invalid_message(connection, body):
    result = parse_carrier_webhook(
        body, source=connection, carrier_scac="", lookup=_always_in_transit
    )

    assert result.events == []
    assert [problem.code for problem in result.problems] == ["invalid_message"]
    assert "not JSON" in result.problems[0].reason
