"""Carrier times resolve to UTC by payload offset or location, never by TZ."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from integrations.timezones import (
    ResolvedTime,
    TimestampError,
    country_code_for,
    parse_date_time,
    parse_offset,
    parse_timestamp,
    resolve_event_time,
    to_utc,
    zone_for_location,
)

UTC = dt.UTC


@pytest.fixture(params=["UTC", "Asia/Tokyo"])
def process_tz(request, monkeypatch):
    """Run the test with the process time zone set to UTC, then to Tokyo."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("city", "state", "country", "zone"),
    [
        ("Singapore", None, "SG", "Asia/Singapore"),
        (None, None, "de", "Europe/Berlin"),
        ("London", None, "United Kingdom", "Europe/London"),
        ("Rotterdam", "ZH", "NLD", "Europe/Amsterdam"),
        ("Mumbai", "MH", " india ", "Asia/Kolkata"),
        ("Shenzhen", None, "CN", "Asia/Shanghai"),
        ("Osaka", None, "Japan", "Asia/Tokyo"),
        ("Las Palmas de Gran Canaria", None, "ES", "Atlantic/Canary"),
        ("Madrid", None, "ES", "Europe/Madrid"),
    ],
)
def test_zone_for_location_reads_countries(city, state, country, zone):
    assert zone_for_location(city, state, country) == zone


@pytest.mark.parametrize(
    ("city", "state", "country", "zone"),
    [
        ("Denver", "CO", "US", "America/Denver"),
        ("Phoenix", "AZ", "US", "America/Phoenix"),
        ("Tucson", "arizona", "USA", "America/Phoenix"),
        ("  el   paso ", "tx", "United States", "America/Denver"),
        ("Houston", "TX", "US", "America/Chicago"),
        ("El Paso", "IL", "US", "America/Chicago"),
        ("Pensacola", "FL", "US", "America/Chicago"),
        ("Indianapolis", "IN", "US", "America/Indiana/Indianapolis"),
        ("Gary", "IN", "US", "America/Chicago"),
        ("Honolulu", "HI", "US", "Pacific/Honolulu"),
        ("Anchorage", "AK", "US", "America/Anchorage"),
        ("Albany", "New York", "U.S.A.", "America/New_York"),
        ("Regina", "SK", "CA", "America/Regina"),
        ("Montreal", "Quebec", "Canada", "America/Toronto"),
        ("Brisbane", "QLD", "AU", "Australia/Brisbane"),
        ("Sydney", "New South Wales", "Australia", "Australia/Sydney"),
        ("Monterrey", "NLE", "MX", "America/Mexico_City"),
        ("Tijuana", "BCN", "MX", "America/Tijuana"),
        ("Guadalajara", None, "Mexico", "America/Mexico_City"),
        ("Manaus", "AM", "BR", "America/Manaus"),
        ("Sao Paulo", "SP", "BR", "America/Sao_Paulo"),
    ],
)
def test_zone_for_location_splits_multi_zone_countries(city, state, country, zone):
    assert zone_for_location(city, state, country) == zone


@pytest.mark.parametrize(
    ("city", "state", "country"),
    [
        ("Springfield", None, "US"),
        ("Springfield", "ZZ", "US"),
        ("Toronto", None, "CA"),
        ("Perth", None, "AU"),
        ("Denver", "CO", None),
        ("Denver", "CO", ""),
        ("Kazan", None, "RU"),
        ("Atlantis", None, "Atlantis"),
        (None, None, None),
    ],
)
def test_zone_for_location_returns_none_when_unknown(city, state, country):
    assert zone_for_location(city, state, country) is None


def test_country_code_for_reads_codes_and_names():
    assert [
        country_code_for(value) for value in ("us", "USA", "United States", "UK", "")
    ] == ["US", "US", "US", "GB", None]


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        # Daylight time began on 9 March 2025 in the US.
        (dt.datetime(2025, 3, 10, 9, 15), "America/Denver", "2025-03-10T15:15:00"),
        (dt.datetime(2025, 3, 8, 9, 15), "America/Denver", "2025-03-08T16:15:00"),
        # Arizona keeps standard time all year.
        (dt.datetime(2025, 3, 10, 9, 15), "America/Phoenix", "2025-03-10T16:15:00"),
        (dt.datetime(2025, 7, 1, 12, 0), "America/Phoenix", "2025-07-01T19:00:00"),
        (dt.datetime(2025, 3, 10, 9, 15), "Asia/Singapore", "2025-03-10T01:15:00"),
    ],
)
def test_to_utc_converts_wall_clock_time(local, zone, expected):
    assert to_utc(local, zone) == dt.datetime.fromisoformat(expected).replace(
        tzinfo=UTC
    )


def test_to_utc_moves_a_spring_forward_gap_time_past_the_gap():
    # 02:30 does not exist in Denver on 9 March 2025; it is read as 03:30 MDT.
    moment = to_utc(dt.datetime(2025, 3, 9, 2, 30), "America/Denver")

    assert moment == dt.datetime(2025, 3, 9, 9, 30, tzinfo=UTC)
    assert moment.astimezone(dt.timezone(dt.timedelta(hours=-6))).hour == 3


def test_to_utc_reads_an_ambiguous_fall_back_time_as_the_first_occurrence():
    # 01:30 happens twice in Denver on 2 November 2025: MDT first, then MST.
    moment = to_utc(dt.datetime(2025, 11, 2, 1, 30), "America/Denver")

    assert moment == dt.datetime(2025, 11, 2, 7, 30, tzinfo=UTC)


def test_to_utc_rejects_aware_times_and_unknown_zones():
    with pytest.raises(ValueError, match="^to_utc expects a naive local time$"):
        to_utc(dt.datetime(2025, 3, 10, 9, 15, tzinfo=UTC), "America/Denver")
    with pytest.raises(ValueError, match="^unknown time zone 'Mars/Olympus'$"):
        to_utc(dt.datetime(2025, 3, 10, 9, 15), "Mars/Olympus")


@pytest.mark.parametrize(
    ("value", "expected", "has_offset"),
    [
        (
            "2026-04-17T23:43:17.6571145",
            dt.datetime(2026, 4, 17, 23, 43, 17, 657114),
            False,
        ),
        ("2024-08-15T00:00:00", dt.datetime(2024, 8, 15), False),
        ("2025-03-10 09:15", dt.datetime(2025, 3, 10, 9, 15), False),
        (
            "2024-08-16T10:15:00-05:00",
            dt.datetime(
                2024, 8, 16, 10, 15, tzinfo=dt.timezone(-dt.timedelta(hours=5))
            ),
            True,
        ),
        ("2024-08-17T08:00:00Z", dt.datetime(2024, 8, 17, 8, tzinfo=UTC), True),
        (
            " 2024-08-17t08:00:00.5+0530 ",
            dt.datetime(
                2024,
                8,
                17,
                8,
                0,
                0,
                500000,
                tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)),
            ),
            True,
        ),
    ],
)
def test_parse_timestamp_reads_iso_8601(value, expected, has_offset):
    moment, offset_present = parse_timestamp(value)

    assert moment == expected
    assert moment.utcoffset() == expected.utcoffset()
    assert offset_present is has_offset


def test_parse_timestamp_truncates_seven_digit_fractions_without_rounding():
    moment, _ = parse_timestamp("2026-04-17T23:43:17.9999999Z")

    assert moment == dt.datetime(2026, 4, 17, 23, 43, 17, 999999, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("N/A", "^'N/A' is not a timestamp$"),
        ("", "^'' is not a timestamp$"),
        ("2025-03-10", "^'2025-03-10' is not a timestamp$"),
        (None, "^None is not a timestamp$"),
        (1741598100, "^1741598100 is not a timestamp$"),
        ("2025-13-01T00:00:00", "^'2025-13-01T00:00:00' is out of range$"),
        ("2025-03-10T24:00:00", "^'2025-03-10T24:00:00' is out of range$"),
        (
            "2025-03-10T09:15:00+25:00",
            "^'2025-03-10T09:15:00\\+25:00' is out of range$",
        ),
    ],
)
def test_parse_timestamp_raises_a_readable_error(value, message):
    with pytest.raises(TimestampError, match=message) as raised:
        parse_timestamp(value)

    assert raised.value.value == value


def test_parse_date_time_reads_split_carrier_fields():
    assert [
        parse_date_time("20250310", "091500"),
        parse_date_time("2025-03-10", "15:15:00"),
        parse_date_time("20250310", "0915"),
    ] == [
        dt.datetime(2025, 3, 10, 9, 15),
        dt.datetime(2025, 3, 10, 15, 15),
        dt.datetime(2025, 3, 10, 9, 15),
    ]
    with pytest.raises(TimestampError, match="^'2025031 0915' is not a timestamp$"):
        parse_date_time("2025031", "0915")
    with pytest.raises(TimestampError, match="^'20250230 091500' is out of range$"):
        parse_date_time("20250230", "091500")


def test_parse_offset_reads_carrier_offsets():
    assert [parse_offset(text) for text in ("-06:00", "+0530", "-7:00", "+02")] == [
        dt.timezone(dt.timedelta(hours=-6)),
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(dt.timedelta(hours=-7)),
        dt.timezone(dt.timedelta(hours=2)),
    ]
    with pytest.raises(TimestampError, match="^'GMT' is not a UTC offset$"):
        parse_offset("GMT")


def _b06_rows() -> list[ResolvedTime]:
    return [
        resolve_event_time(
            "2025-03-10T09:15:00", city="Denver", state="CO", country="US"
        ),
        resolve_event_time(
            "2025-03-10T09:15:00", city="Phoenix", state="AZ", country="US"
        ),
        resolve_event_time(
            "2025-03-10T09:15:00-06:00", city="Denver", state="CO", country="US"
        ),
        resolve_event_time("2025-03-10T09:15:00"),
    ]


def test_resolve_event_time_records_where_the_offset_came_from():
    assert _b06_rows() == [
        (dt.datetime(2025, 3, 10, 15, 15, tzinfo=UTC), "location"),
        (dt.datetime(2025, 3, 10, 16, 15, tzinfo=UTC), "location"),
        (dt.datetime(2025, 3, 10, 15, 15, tzinfo=UTC), "payload"),
        (dt.datetime(2025, 3, 10, 9, 15, tzinfo=UTC), "assumed"),
    ]


def test_resolve_event_time_accepts_datetimes():
    assert resolve_event_time(
        dt.datetime(2025, 3, 10, 9, 15), city="Singapore", country="SG"
    ) == (dt.datetime(2025, 3, 10, 1, 15, tzinfo=UTC), "location")


def test_resolve_event_time_does_not_depend_on_process_tz(process_tz):
    expected_offset = {"UTC": 0, "Asia/Tokyo": -9 * 3600}[process_tz]
    assert time.timezone == expected_offset

    assert [row.utc.isoformat() for row in _b06_rows()] == [
        "2025-03-10T15:15:00+00:00",
        "2025-03-10T16:15:00+00:00",
        "2025-03-10T15:15:00+00:00",
        "2025-03-10T09:15:00+00:00",
    ]
