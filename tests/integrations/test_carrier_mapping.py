"""Carrier webhooks map to canonical events, one bad scan at a time (B01-B06)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest

from integrations.connectors.carrier import codes
from integrations.connectors.carrier.mapping import parse_carrier_webhook
from integrations.events import Event, Problem

UTC = dt.UTC
SOURCE = "carrier-crx"


def _lookup(**extra_status: str):
    return codes.static_lookup(
        {
            ("shipment_status", SOURCE): {**codes.GENERIC_STATUS, **extra_status},
            ("exception_reason", SOURCE): codes.GENERIC_EXCEPTION_REASON,
            ("shipment_status", "ups"): codes.UPS_STATUS_TYPE,
        }
    )


def _parse(document, *, source: str = SOURCE, lookup=None):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return parse_carrier_webhook(
        body, source=source, carrier_scac="CRX", lookup=lookup or _lookup()
    )


def _data(**values) -> dict:
    """Return a canonical milestone's data with defaults for the unset keys."""
    return {
        "tracking_number": "CRX000111222",
        "status": "",
        "external_code": "",
        "description": "",
        "kind": "actual",
        "occurred_at": "",
        "tz_source": "payload",
        "city": "",
        "state": "",
        "country": "",
        "reason_code": "",
        **values,
    }


@pytest.fixture(params=["UTC", "Asia/Tokyo"])
def process_tz(request, monkeypatch):
    """Run the test with the process time zone set to UTC, then to Tokyo."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


B01_BODY = {
    "tracking_number": "CRX000111222",
    "events": [
        {
            "id": "ev-9",
            "code": "DLV2",
            "description": "Handed to recipient",
            "occurred_at": "2025-03-04T18:02:00Z",
        }
    ],
}


def test_unmapped_code_is_a_problem_and_never_an_event():
    result = _parse(B01_BODY)

    assert result.events == []
    assert result.problems == [
        Problem("unmapped_code", "unmapped carrier code DLV2 (carrier CRX)")
    ]


def test_unmapped_code_maps_once_the_mapping_is_added():
    result = _parse(B01_BODY, lookup=_lookup(DLV2="delivered"))

    assert result.problems == []
    assert result.events == [
        Event(
            id="CRX000111222:ev-9",
            source=SOURCE,
            type="shipment.delivered",
            subject="CRX000111222",
            time=dt.datetime(2025, 3, 4, 18, 2, tzinfo=UTC),
            data=_data(
                status="delivered",
                external_code="DLV2",
                description="Handed to recipient",
                occurred_at="2025-03-04T18:02:00+00:00",
            ),
        )
    ]


def test_repeated_unmapped_code_is_reported_once():
    event = B01_BODY["events"][0]
    body = {
        "tracking_number": "CRX000111222",
        "events": [event, {**event, "id": "ev-10"}],
    }

    assert _parse(body).problems == [
        Problem("unmapped_code", "unmapped carrier code DLV2 (carrier CRX)")
    ]


def test_label_created_code_is_at_most_carrier_assigned():
    body = {
        "tracking_number": "CRX000111333",
        "events": [
            {
                "id": "ev-1",
                "code": "LBL",
                "description": "Label created, awaiting pickup",
                "occurred_at": "2025-03-03T12:00:00Z",
            }
        ],
    }

    result = _parse(body)

    assert result.problems == []
    assert [(e.type, e.data["status"]) for e in result.events] == [
        ("shipment.milestone", "carrier_assigned")
    ]


def test_default_tables_never_read_a_label_as_a_pickup():
    label_codes = [
        codes.GENERIC_STATUS["LBL"],
        codes.UPS_STATUS_TYPE["M"],
        codes.FEDEX_EVENT_TYPE["OC"],
        codes.USPS_EVENT_CODE["GX"],
        codes.USPS_EVENT_CODE["MA"],
    ]

    assert label_codes == ["carrier_assigned"] * 5
    assert "DLV2" not in codes.GENERIC_STATUS


def _history(*event_ids: str) -> dict:
    times = {"E1": "08:00", "E2": "12:00", "E3": "16:00", "E4": "20:00"}
    return {
        "tracking_number": "CRX000111444",
        "events": [
            {
                "id": event_id,
                "code": "IT",
                "occurred_at": f"2025-03-03T{times[event_id]}:00Z",
            }
            for event_id in event_ids
        ],
    }


def test_same_history_parsed_twice_gives_identical_events():
    first = _parse(_history("E1", "E2", "E3"))
    again = _parse(_history("E1", "E2", "E3"))
    polled = _parse(_history("E1", "E2", "E3", "E4"))

    assert first.events == again.events
    assert [e.id for e in polled.events] == [
        "CRX000111444:E1",
        "CRX000111444:E2",
        "CRX000111444:E3",
        "CRX000111444:E4",
    ]
    assert polled.events[:3] == first.events


def _idless(**values) -> dict:
    event = {
        "code": "IT",
        "occurred_at": "2025-03-03T10:00:00-05:00",
        "city": "Albany",
        **values,
    }
    return {"tracking_number": "XYZ123", "events": [event]}


def test_idless_event_gets_the_same_key_on_every_parse():
    first = _parse(_idless())
    again = _parse(_idless())
    same_instant = _parse(_idless(occurred_at="2025-03-03T15:00:00Z", city="ALBANY"))

    assert re.fullmatch(r"XYZ123:sha256-[0-9a-f]{32}", first.events[0].id)
    assert [again.events[0].id, same_instant.events[0].id] == [first.events[0].id] * 2


def test_idless_event_key_changes_with_location_code_time_and_source():
    key = _parse(_idless()).events[0].id

    others = [
        _parse(_idless(city="Troy")).events[0].id,
        _parse(_idless(code="PU")).events[0].id,
        _parse(_idless(occurred_at="2025-03-03T10:01:00-05:00")).events[0].id,
        _parse(_idless(), source="carrier-abc", lookup=_lookup_for("carrier-abc"))
        .events[0]
        .id,
    ]

    assert key not in others
    assert len(set(others)) == 4


def _lookup_for(source: str):
    return codes.static_lookup({("shipment_status", source): codes.GENERIC_STATUS})


B05_BODY = {
    "tracking_number": "CRX000111555",
    "events": [
        {
            "id": "e1",
            "code": "PU",
            "occurred_at": "2024-08-15T00:00:00",
            "city": "Albany",
            "state": "NY",
            "country": "US",
        },
        {"id": "e2", "code": "IT", "occurred_at": "2024-08-16T10:15:00-05:00"},
        {"id": "e3", "code": "IT", "occurred_at": "2026-04-17T23:43:17.6571145"},
        {"id": "e4", "code": "OFD", "occurred_at": "2024-08-17T08:00:00Z"},
        {"id": "e5", "code": "DLV", "occurred_at": "N/A"},
    ],
}


def test_one_bad_timestamp_leaves_the_other_events():
    result = _parse(B05_BODY)

    assert result.problems == [
        Problem("invalid_value", "event 4: occurred_at 'N/A' is not a timestamp")
    ]
    assert [
        (e.id, e.time, e.data["occurred_at"], e.data["tz_source"])
        for e in result.events
    ] == [
        (
            "CRX000111555:e1",
            dt.datetime(2024, 8, 15, 4, tzinfo=UTC),
            "2024-08-15T04:00:00+00:00",
            "location",
        ),
        (
            "CRX000111555:e2",
            dt.datetime(2024, 8, 16, 15, 15, tzinfo=UTC),
            "2024-08-16T15:15:00+00:00",
            "payload",
        ),
        (
            "CRX000111555:e3",
            dt.datetime(2026, 4, 17, 23, 43, 17, 657114, tzinfo=UTC),
            "2026-04-17T23:43:17.657114+00:00",
            "assumed",
        ),
        (
            "CRX000111555:e4",
            dt.datetime(2024, 8, 17, 8, tzinfo=UTC),
            "2024-08-17T08:00:00+00:00",
            "payload",
        ),
    ]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("scan", "event 0: not a JSON object"),
        ({"occurred_at": "2025-03-03T10:00:00Z"}, "event 0: code is missing"),
        ({"code": "IT"}, "event 0: occurred_at is missing"),
        (
            {"code": "IT", "occurred_at": ""},
            "event 0: occurred_at '' is not a timestamp",
        ),
    ],
)
def test_unreadable_event_is_an_invalid_value(event, reason):
    result = _parse({"tracking_number": "T1", "events": [event]})

    assert result.events == []
    assert result.problems == [Problem("invalid_value", reason)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON: Expecting property name enclosed in"),
        (b"[]", "body must be a JSON object"),
        (b'{"events": []}', "tracking_number is missing"),
        (b'{"tracking_number": " ", "events": []}', "tracking_number is missing"),
        (b'{"tracking_number": "T1"}', "body has neither events nor activities"),
        (b'{"tracking_number": "T1", "events": {}}', "events must be a JSON array"),
    ],
)
def test_unusable_body_is_an_invalid_message(body, reason):
    result = _parse(body)

    assert result.events == []
    assert [p.code for p in result.problems] == ["invalid_message"]
    assert result.problems[0].reason.startswith(reason)


def test_exception_event_carries_its_canonical_reason():
    body = {
        "tracking_number": "CRX000111666",
        "events": [
            {
                "id": "x1",
                "code": "EXC",
                "description": "Road closed by snow",
                "occurred_at": "2025-03-05T07:30:00",
                "city": "Denver",
                "state": "CO",
                "country": "USA",
                "reason": "weather",
            }
        ],
    }

    (event,) = _parse(body).events

    assert (event.type, event.subject, event.time) == (
        "shipment.exception",
        "CRX000111666",
        dt.datetime(2025, 3, 5, 14, 30, tzinfo=UTC),
    )
    assert event.data == _data(
        tracking_number="CRX000111666",
        status="exception",
        external_code="EXC",
        description="Road closed by snow",
        occurred_at="2025-03-05T14:30:00+00:00",
        tz_source="location",
        city="Denver",
        state="CO",
        country="US",
        reason_code="weather",
    )


def _activity(city: str, state: str, **extra) -> dict:
    return {
        "date": "20250310",
        "time": "091500",
        "location": {"city": city, "stateProvince": state, "country": "US"},
        "status": {"code": "I", "description": "Departed from facility"},
        **extra,
    }


B06_BODY = {
    "tracking_number": "1ZB06",
    "activities": [
        _activity("Denver", "CO"),
        _activity("Phoenix", "AZ"),
        _activity(
            "Denver",
            "CO",
            gmtDate="20250310",
            gmtTime="15:15:00",
            gmtOffset="-06:00",
        ),
    ],
}


def _b06_times(result) -> list[tuple[str, str]]:
    return [(e.data["occurred_at"], e.data["tz_source"]) for e in result.events]


def test_local_activity_times_resolve_by_location_and_gmt_fields_win():
    result = _parse(B06_BODY, source="ups")

    assert result.problems == []
    assert _b06_times(result) == [
        ("2025-03-10T15:15:00+00:00", "location"),
        ("2025-03-10T16:15:00+00:00", "location"),
        ("2025-03-10T15:15:00+00:00", "payload"),
    ]
    assert result.events[1].data == _data(
        tracking_number="1ZB06",
        status="in_transit",
        external_code="I",
        description="Departed from facility",
        occurred_at="2025-03-10T16:15:00+00:00",
        tz_source="location",
        city="Phoenix",
        state="AZ",
        country="US",
    )


def test_activity_times_do_not_depend_on_process_tz(process_tz):
    result = _parse(B06_BODY, source="ups")

    assert _b06_times(result) == [
        ("2025-03-10T15:15:00+00:00", "location"),
        ("2025-03-10T16:15:00+00:00", "location"),
        ("2025-03-10T15:15:00+00:00", "payload"),
    ]


def test_activity_without_location_is_assumed_utc_and_offset_is_payload():
    body = {
        "tracking_number": "1ZB06",
        "activities": [
            {"date": "20250310", "time": "091500", "status": {"code": "I"}},
            {
                "date": "20250310",
                "time": "091500",
                "gmtOffset": "-7:00",
                "status": {"code": "I"},
            },
            {"date": "20250310", "time": "N/A", "status": {"code": "I"}},
        ],
    }

    result = _parse(body, source="ups")

    assert _b06_times(result) == [
        ("2025-03-10T09:15:00+00:00", "assumed"),
        ("2025-03-10T16:15:00+00:00", "payload"),
    ]
    assert result.problems == [
        Problem("invalid_value", "event 2: date/time '20250310 N/A' is not a timestamp")
    ]


def test_ups_track_response_from_corpus_maps_each_activity(corpus):
    body = (corpus / "carrier-tracking" / "ups-track-karrio.json").read_bytes()

    result = _parse(body, source="ups")

    assert result.problems == []
    assert [(e.subject, e.type, e.time) for e in result.events] == [
        (
            "1Z1442YY7229014688",
            "shipment.delivered",
            dt.datetime(2022, 1, 26, 21, 30, tzinfo=UTC),
        ),
        (
            "1Z1442YY7229014688",
            "shipment.milestone",
            dt.datetime(2022, 1, 26, 15, 16, 41, tzinfo=UTC),
        ),
    ]
    assert [e.data for e in result.events] == [
        _data(
            tracking_number="1Z1442YY7229014688",
            status="delivered",
            external_code="D",
            description="DELIVERED",
            occurred_at="2022-01-26T21:30:00+00:00",
            tz_source="location",
            city="PARAMUS",
            state="NJ",
            country="US",
        ),
        _data(
            tracking_number="1Z1442YY7229014688",
            status="carrier_assigned",
            external_code="M",
            description=(
                "Shipper created a label, UPS has not received the package yet."
            ),
            occurred_at="2022-01-26T15:16:41+00:00",
            tz_source="assumed",
            country="US",
        ),
    ]


def test_gmt_fields_win_over_local_time_location_and_offset():
    # The carrier's GMT fields are exact; the local fields disagree on purpose.
    body = {
        "tracking_number": "1ZB06",
        "activities": [
            _activity("Phoenix", "AZ", gmtDate="20250310", gmtTime="151500"),
            _activity(
                "Phoenix",
                "AZ",
                gmtDate="2025-03-10",
                gmtTime="15:15:00",
                gmtOffset="-04:00",
            ),
        ],
    }

    assert _b06_times(_parse(body, source="ups")) == [
        ("2025-03-10T15:15:00+00:00", "payload"),
        ("2025-03-10T15:15:00+00:00", "payload"),
    ]


def test_a_ups_activity_past_the_end_of_utc_sinks_only_itself():
    body = {
        "tracking_number": "1ZMAX",
        "activities": [
            _activity("Denver", "CO"),
            _activity(
                "Denver",
                "CO",
                date="99991231",
                time="230000",
                gmtOffset="-05:00",
            ),
        ],
    }

    result = _parse(body, source="ups")

    assert len(result.events) == 1
    [problem] = result.problems
    assert problem.code == "invalid_value"
    assert "out of range in UTC" in problem.reason
