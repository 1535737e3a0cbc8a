"""Resolve carrier timestamps to UTC without trusting the server's time zone.

Carriers send three kinds of time: an ISO 8601 value with an offset (or
``Z``), a separate GMT date and time, or a bare local wall-clock time at the
scan's location. The first two are exact and recorded as ``tz_source``
``payload``. A bare local time is read in the IANA zone of the event's
location (``location``); when the location is missing or unknown, it is read
as UTC and flagged ``assumed`` so customer service can see it is a guess.
Nothing here reads the process ``TZ``: every conversion names its zone.

The zone tables need the IANA database that ``zoneinfo`` reads from the
system (Debian's ``tzdata`` package) or from the PyPI ``tzdata`` package.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

TZ_PAYLOAD = "payload"
TZ_LOCATION = "location"
TZ_ASSUMED = "assumed"


class TimestampError(ValueError):
    """A value that is not a timestamp this module can read."""

    def __init__(self, value: object, detail: str = "is not a timestamp") -> None:
        self.value = value
        self.detail = detail
        super().__init__(f"{value!r} {detail}")


class TimestampOutOfRange(TimestampError, OverflowError):
    """A timestamp whose instant lies outside the years UTC can hold.

    It is an ``OverflowError`` as well, so callers written for the bare
    arithmetic error still catch it.
    """


class ResolvedTime(NamedTuple):
    """An aware UTC instant and how its offset was found."""

    utc: dt.datetime
    tz_source: str


# Countries that keep one zone, by ISO 3166-1 alpha-2 code. Outlying islands
# with a zone of their own (Canaries, Azores, Chatham, ...) are reached
# through the city table below.
_COUNTRY_ZONE = {
    "AD": "Europe/Andorra",
    "AE": "Asia/Dubai",
    "AL": "Europe/Tirane",
    "AM": "Asia/Yerevan",
    "AR": "America/Argentina/Buenos_Aires",
    "AT": "Europe/Vienna",
    "AZ": "Asia/Baku",
    "BA": "Europe/Sarajevo",
    "BD": "Asia/Dhaka",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "BH": "Asia/Bahrain",
    "BN": "Asia/Brunei",
    "BO": "America/La_Paz",
    "BS": "America/Nassau",
    "BY": "Europe/Minsk",
    "CH": "Europe/Zurich",
    "CI": "Africa/Abidjan",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "CO": "America/Bogota",
    "CR": "America/Costa_Rica",
    "CU": "America/Havana",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "DO": "America/Santo_Domingo",
    "DZ": "Africa/Algiers",
    "EC": "America/Guayaquil",
    "EE": "Europe/Tallinn",
    "EG": "Africa/Cairo",
    "ES": "Europe/Madrid",
    "ET": "Africa/Addis_Ababa",
    "FI": "Europe/Helsinki",
    "FJ": "Pacific/Fiji",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "GE": "Asia/Tbilisi",
    "GH": "Africa/Accra",
    "GR": "Europe/Athens",
    "GT": "America/Guatemala",
    "HK": "Asia/Hong_Kong",
    "HN": "America/Tegucigalpa",
    "HR": "Europe/Zagreb",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IL": "Asia/Jerusalem",
    "IN": "Asia/Kolkata",
    "IQ": "Asia/Baghdad",
    "IR": "Asia/Tehran",
    "IS": "Atlantic/Reykjavik",
    "IT": "Europe/Rome",
    "JM": "America/Jamaica",
    "JO": "Asia/Amman",
    "JP": "Asia/Tokyo",
    "KE": "Africa/Nairobi",
    "KH": "Asia/Phnom_Penh",
    "KR": "Asia/Seoul",
    "KW": "Asia/Kuwait",
    "LA": "Asia/Vientiane",
    "LB": "Asia/Beirut",
    "LI": "Europe/Vaduz",
    "LK": "Asia/Colombo",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga",
    "MA": "Africa/Casablanca",
    "MC": "Europe/Monaco",
    "MD": "Europe/Chisinau",
    "ME": "Europe/Podgorica",
    "MK": "Europe/Skopje",
    "MM": "Asia/Yangon",
    "MO": "Asia/Macau",
    "MT": "Europe/Malta",
    "MY": "Asia/Kuala_Lumpur",
    "NG": "Africa/Lagos",
    "NI": "America/Managua",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "NP": "Asia/Kathmandu",
    "NZ": "Pacific/Auckland",
    "OM": "Asia/Muscat",
    "PA": "America/Panama",
    "PE": "America/Lima",
    "PH": "Asia/Manila",
    "PK": "Asia/Karachi",
    "PL": "Europe/Warsaw",
    "PR": "America/Puerto_Rico",
    "PT": "Europe/Lisbon",
    "PY": "America/Asuncion",
    "QA": "Asia/Qatar",
    "RO": "Europe/Bucharest",
    "RS": "Europe/Belgrade",
    "SA": "Asia/Riyadh",
    "SE": "Europe/Stockholm",
    "SG": "Asia/Singapore",
    "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava",
    "SM": "Europe/San_Marino",
    "SN": "Africa/Dakar",
    "SV": "America/El_Salvador",
    "TH": "Asia/Bangkok",
    "TN": "Africa/Tunis",
    "TR": "Europe/Istanbul",
    "TT": "America/Port_of_Spain",
    "TW": "Asia/Taipei",
    "TZ": "Africa/Dar_es_Salaam",
    "UA": "Europe/Kyiv",
    "UG": "Africa/Kampala",
    "UY": "America/Montevideo",
    "UZ": "Asia/Tashkent",
    "VE": "America/Caracas",
    "VN": "Asia/Ho_Chi_Minh",
    "ZA": "Africa/Johannesburg",
}

# Spellings carriers use for a country, beyond the alpha-2 code itself.
_COUNTRY_ALIASES = {
    "USA": "US",
    "U S": "US",
    "U S A": "US",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "CAN": "CA",
    "CANADA": "CA",
    "AUS": "AU",
    "AUSTRALIA": "AU",
    "MEX": "MX",
    "MEXICO": "MX",
    "BRA": "BR",
    "BRAZIL": "BR",
    "BRASIL": "BR",
    "UK": "GB",
    "GBR": "GB",
    "UNITED KINGDOM": "GB",
    "GREAT BRITAIN": "GB",
    "DEU": "DE",
    "GERMANY": "DE",
    "DEUTSCHLAND": "DE",
    "FRA": "FR",
    "FRANCE": "FR",
    "NLD": "NL",
    "NETHERLANDS": "NL",
    "THE NETHERLANDS": "NL",
    "JPN": "JP",
    "JAPAN": "JP",
    "CHN": "CN",
    "CHINA": "CN",
    "IND": "IN",
    "INDIA": "IN",
    "SGP": "SG",
    "SINGAPORE": "SG",
    "ESP": "ES",
    "SPAIN": "ES",
    "ITA": "IT",
    "ITALY": "IT",
    "BEL": "BE",
    "BELGIUM": "BE",
    "CHE": "CH",
    "SWITZERLAND": "CH",
    "AUT": "AT",
    "AUSTRIA": "AT",
    "POL": "PL",
    "POLAND": "PL",
    "IRL": "IE",
    "IRELAND": "IE",
    "KOR": "KR",
    "SOUTH KOREA": "KR",
    "NZL": "NZ",
    "NEW ZEALAND": "NZ",
    "PRT": "PT",
    "PORTUGAL": "PT",
    "SWE": "SE",
    "SWEDEN": "SE",
    "DNK": "DK",
    "DENMARK": "DK",
    "NOR": "NO",
    "NORWAY": "NO",
    "FIN": "FI",
    "FINLAND": "FI",
}

_US_STATE_ZONE = {
    "AL": "America/Chicago",
    "AK": "America/Anchorage",
    "AZ": "America/Phoenix",  # No DST outside the Navajo Nation.
    "AR": "America/Chicago",
    "CA": "America/Los_Angeles",
    "CO": "America/Denver",
    "CT": "America/New_York",
    "DC": "America/New_York",
    "DE": "America/New_York",
    "FL": "America/New_York",  # The panhandle west of the Apalachicola: cities.
    "GA": "America/New_York",
    "HI": "Pacific/Honolulu",
    "ID": "America/Boise",  # The northern panhandle is Pacific: cities.
    "IL": "America/Chicago",
    "IN": "America/Indiana/Indianapolis",  # The north-west and south-west: cities.
    "IA": "America/Chicago",
    "KS": "America/Chicago",
    "KY": "America/New_York",  # The western half is Central: cities.
    "LA": "America/Chicago",
    "ME": "America/New_York",
    "MD": "America/New_York",
    "MA": "America/New_York",
    "MI": "America/Detroit",
    "MN": "America/Chicago",
    "MS": "America/Chicago",
    "MO": "America/Chicago",
    "MT": "America/Denver",
    "NE": "America/Chicago",  # The panhandle is Mountain: cities.
    "NV": "America/Los_Angeles",
    "NH": "America/New_York",
    "NJ": "America/New_York",
    "NM": "America/Denver",
    "NY": "America/New_York",
    "NC": "America/New_York",
    "ND": "America/Chicago",  # The south-west is Mountain: cities.
    "OH": "America/New_York",
    "OK": "America/Chicago",
    "OR": "America/Los_Angeles",
    "PA": "America/New_York",
    "RI": "America/New_York",
    "SC": "America/New_York",
    "SD": "America/Chicago",  # The western half is Mountain: cities.
    "TN": "America/Chicago",  # East Tennessee is Eastern: cities.
    "TX": "America/Chicago",  # El Paso and Hudspeth counties: cities.
    "UT": "America/Denver",
    "VT": "America/New_York",
    "VA": "America/New_York",
    "WA": "America/Los_Angeles",
    "WV": "America/New_York",
    "WI": "America/Chicago",
    "WY": "America/Denver",
    "PR": "America/Puerto_Rico",
    "GU": "Pacific/Guam",
    "VI": "America/St_Thomas",
    "AS": "Pacific/Pago_Pago",
    "MP": "Pacific/Saipan",
}

_US_STATE_NAMES = {
    "ALABAMA": "AL",
    "ALASKA": "AK",
    "ARIZONA": "AZ",
    "ARKANSAS": "AR",
    "CALIFORNIA": "CA",
    "COLORADO": "CO",
    "CONNECTICUT": "CT",
    "DISTRICT OF COLUMBIA": "DC",
    "DELAWARE": "DE",
    "FLORIDA": "FL",
    "GEORGIA": "GA",
    "HAWAII": "HI",
    "IDAHO": "ID",
    "ILLINOIS": "IL",
    "INDIANA": "IN",
    "IOWA": "IA",
    "KANSAS": "KS",
    "KENTUCKY": "KY",
    "LOUISIANA": "LA",
    "MAINE": "ME",
    "MARYLAND": "MD",
    "MASSACHUSETTS": "MA",
    "MICHIGAN": "MI",
    "MINNESOTA": "MN",
    "MISSISSIPPI": "MS",
    "MISSOURI": "MO",
    "MONTANA": "MT",
    "NEBRASKA": "NE",
    "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH",
    "NEW JERSEY": "NJ",
    "NEW MEXICO": "NM",
    "NEW YORK": "NY",
    "NORTH CAROLINA": "NC",
    "NORTH DAKOTA": "ND",
    "OHIO": "OH",
    "OKLAHOMA": "OK",
    "OREGON": "OR",
    "PENNSYLVANIA": "PA",
    "RHODE ISLAND": "RI",
    "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN",
    "TEXAS": "TX",
    "UTAH": "UT",
    "VERMONT": "VT",
    "VIRGINIA": "VA",
    "WASHINGTON": "WA",
    "WEST VIRGINIA": "WV",
    "WISCONSIN": "WI",
    "WYOMING": "WY",
    "PUERTO RICO": "PR",
    "GUAM": "GU",
}

_CA_PROVINCE_ZONE = {
    "BC": "America/Vancouver",
    "AB": "America/Edmonton",
    "SK": "America/Regina",  # No DST.
    "MB": "America/Winnipeg",
    "ON": "America/Toronto",  # The north-west is Central: cities.
    "QC": "America/Toronto",
    "NB": "America/Moncton",
    "NS": "America/Halifax",
    "PE": "America/Halifax",
    "NL": "America/St_Johns",
    "YT": "America/Whitehorse",
    "NT": "America/Edmonton",
    "NU": "America/Iqaluit",
}

_CA_PROVINCE_NAMES = {
    "BRITISH COLUMBIA": "BC",
    "ALBERTA": "AB",
    "SASKATCHEWAN": "SK",
    "MANITOBA": "MB",
    "ONTARIO": "ON",
    "QUEBEC": "QC",
    "NEW BRUNSWICK": "NB",
    "NOVA SCOTIA": "NS",
    "PRINCE EDWARD ISLAND": "PE",
    "NEWFOUNDLAND AND LABRADOR": "NL",
    "NEWFOUNDLAND": "NL",
    "YUKON": "YT",
    "NORTHWEST TERRITORIES": "NT",
    "NUNAVUT": "NU",
}

_AU_STATE_ZONE = {
    "NSW": "Australia/Sydney",
    "ACT": "Australia/Sydney",
    "VIC": "Australia/Melbourne",
    "QLD": "Australia/Brisbane",  # No DST.
    "SA": "Australia/Adelaide",
    "WA": "Australia/Perth",
    "TAS": "Australia/Hobart",
    "NT": "Australia/Darwin",
}

_AU_STATE_NAMES = {
    "NEW SOUTH WALES": "NSW",
    "AUSTRALIAN CAPITAL TERRITORY": "ACT",
    "VICTORIA": "VIC",
    "QUEENSLAND": "QLD",
    "SOUTH AUSTRALIA": "SA",
    "WESTERN AUSTRALIA": "WA",
    "TASMANIA": "TAS",
    "NORTHERN TERRITORY": "NT",
}

# Mexico and Brazil: states outside the main zone; every other state (and a
# missing state) is read in the main zone.
_MX_MAIN_ZONE = "America/Mexico_City"
_MX_STATE_ZONE = {
    "BC": "America/Tijuana",
    "BCN": "America/Tijuana",
    "BAJA CALIFORNIA": "America/Tijuana",
    "BCS": "America/Mazatlan",
    "BAJA CALIFORNIA SUR": "America/Mazatlan",
    "SON": "America/Hermosillo",
    "SONORA": "America/Hermosillo",
    "SIN": "America/Mazatlan",
    "SINALOA": "America/Mazatlan",
    "NAY": "America/Mazatlan",
    "NAYARIT": "America/Mazatlan",
    "CHH": "America/Chihuahua",
    "CHIH": "America/Chihuahua",
    "CHIHUAHUA": "America/Chihuahua",
    "ROO": "America/Cancun",
    "QROO": "America/Cancun",
    "QUINTANA ROO": "America/Cancun",
}

_BR_MAIN_ZONE = "America/Sao_Paulo"
_BR_STATE_ZONE = {
    "AC": "America/Rio_Branco",
    "AM": "America/Manaus",
    "RR": "America/Boa_Vista",
    "RO": "America/Porto_Velho",
    "MT": "America/Cuiaba",
    "MS": "America/Campo_Grande",
    "PA": "America/Belem",
    "AP": "America/Belem",
    "TO": "America/Araguaina",
    "MA": "America/Fortaleza",
    "PI": "America/Fortaleza",
    "CE": "America/Fortaleza",
    "RN": "America/Fortaleza",
    "PB": "America/Fortaleza",
    "PE": "America/Recife",
    "AL": "America/Maceio",
    "SE": "America/Maceio",
    "BA": "America/Bahia",
}

# Cities whose zone differs from their state's or country's entry above, keyed
# by (country, state, city). US cities always name their state, because the
# same city name recurs across states in different zones (El Paso, Illinois,
# is Central). An empty state matches any state.
_CITY_ZONE = {
    ("US", "CO", "DENVER"): "America/Denver",
    ("US", "AZ", "PHOENIX"): "America/Phoenix",
    ("US", "AZ", "WINDOW ROCK"): "America/Denver",
    ("US", "TX", "EL PASO"): "America/Denver",
    ("US", "FL", "PENSACOLA"): "America/Chicago",
    ("US", "FL", "PANAMA CITY"): "America/Chicago",
    ("US", "FL", "FORT WALTON BEACH"): "America/Chicago",
    ("US", "ID", "COEUR D'ALENE"): "America/Los_Angeles",
    ("US", "ID", "LEWISTON"): "America/Los_Angeles",
    ("US", "ID", "MOSCOW"): "America/Los_Angeles",
    ("US", "IN", "GARY"): "America/Chicago",
    ("US", "IN", "HAMMOND"): "America/Chicago",
    ("US", "IN", "EVANSVILLE"): "America/Chicago",
    ("US", "KY", "BOWLING GREEN"): "America/Chicago",
    ("US", "KY", "PADUCAH"): "America/Chicago",
    ("US", "KY", "OWENSBORO"): "America/Chicago",
    ("US", "MI", "IRON MOUNTAIN"): "America/Menominee",
    ("US", "MI", "MENOMINEE"): "America/Menominee",
    ("US", "ND", "DICKINSON"): "America/Denver",
    ("US", "NE", "SCOTTSBLUFF"): "America/Denver",
    ("US", "NV", "WEST WENDOVER"): "America/Denver",
    ("US", "OR", "ONTARIO"): "America/Boise",
    ("US", "SD", "RAPID CITY"): "America/Denver",
    ("US", "TN", "KNOXVILLE"): "America/New_York",
    ("US", "TN", "CHATTANOOGA"): "America/New_York",
    ("US", "TN", "JOHNSON CITY"): "America/New_York",
    ("US", "TN", "KINGSPORT"): "America/New_York",
    ("CA", "SK", "LLOYDMINSTER"): "America/Edmonton",
    ("CA", "BC", "DAWSON CREEK"): "America/Dawson_Creek",
    ("CA", "BC", "FORT ST JOHN"): "America/Fort_Nelson",
    ("CA", "ON", "KENORA"): "America/Winnipeg",
    ("MX", "", "CIUDAD JUAREZ"): "America/Ciudad_Juarez",
    ("MX", "", "TIJUANA"): "America/Tijuana",
    ("MX", "", "CANCUN"): "America/Cancun",
    ("ES", "", "LAS PALMAS"): "Atlantic/Canary",
    ("ES", "", "LAS PALMAS DE GRAN CANARIA"): "Atlantic/Canary",
    ("ES", "", "SANTA CRUZ DE TENERIFE"): "Atlantic/Canary",
    ("PT", "", "PONTA DELGADA"): "Atlantic/Azores",
    ("PT", "", "FUNCHAL"): "Atlantic/Madeira",
    ("RU", "", "MOSCOW"): "Europe/Moscow",
    ("RU", "", "SAINT PETERSBURG"): "Europe/Moscow",
    ("RU", "", "ST PETERSBURG"): "Europe/Moscow",
    ("RU", "", "YEKATERINBURG"): "Asia/Yekaterinburg",
    ("RU", "", "NOVOSIBIRSK"): "Asia/Novosibirsk",
    ("RU", "", "VLADIVOSTOK"): "Asia/Vladivostok",
    ("ID", "", "JAKARTA"): "Asia/Jakarta",
    ("ID", "", "SURABAYA"): "Asia/Jakarta",
    ("ID", "", "DENPASAR"): "Asia/Makassar",
}


def zone_for_location(
    city: str | None, state: str | None, country: str | None
) -> str | None:
    """Return the IANA zone of a location, or None when it cannot be known.

    A country is required. Single-zone countries need nothing more; the US,
    Canada and Australia need a state or province (abbreviation or name);
    Mexico and Brazil fall back to their main zone. Cities override where
    a state is split between zones. Nothing is guessed beyond that.
    """
    country_code = country_code_for(country)
    if country_code is None:
        return None

    state_key = _normalise(state)
    city_key = _normalise(city)
    for key in ((country_code, state_key, city_key), (country_code, "", city_key)):
        if city_key and key in _CITY_ZONE:
            return _CITY_ZONE[key]

    return _zone_for_region(country_code, state_key)


def _zone_for_region(country_code: str, state_key: str) -> str | None:
    if country_code == "US":
        code = _US_STATE_NAMES.get(state_key, state_key)
        return _US_STATE_ZONE.get(code)
    if country_code == "CA":
        code = _CA_PROVINCE_NAMES.get(state_key, state_key)
        return _CA_PROVINCE_ZONE.get(code)
    if country_code == "AU":
        code = _AU_STATE_NAMES.get(state_key, state_key)
        return _AU_STATE_ZONE.get(code)
    if country_code == "MX":
        return _MX_STATE_ZONE.get(state_key, _MX_MAIN_ZONE)
    if country_code == "BR":
        return _BR_STATE_ZONE.get(state_key, _BR_MAIN_ZONE)
    return _COUNTRY_ZONE.get(country_code)


def country_code_for(country: str | None) -> str | None:
    """Return the ISO alpha-2 code for a country code or name, or None."""
    key = _normalise(country)
    if not key:
        return None
    code = _COUNTRY_ALIASES.get(key, key)
    if len(code) != 2:
        return None
    return code


def _normalise(value: str | None) -> str:
    """Upper-case a place name and reduce punctuation and runs of spaces."""
    if not value:
        return ""
    text = str(value).upper().replace(".", " ").replace(",", " ")

    return " ".join(text.split())


def to_utc(local: dt.datetime, zone: str) -> dt.datetime:
    """Read a naive wall-clock time in ``zone`` and return it as aware UTC.

    A time that occurs twice when clocks go back is read as the first
    occurrence (``fold=0``, still daylight time). A time that never occurs
    when clocks go forward is read with the offset in force before the
    change, which lands it as far past the gap as it was into it: 02:30 on a
    spring-forward night becomes 03:30 daylight time.
    """
    if local.tzinfo is not None:
        raise ValueError("to_utc expects a naive local time")
    try:
        tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {zone!r}") from exc

    # PEP 495 gives exactly the documented rules for fold=0, in gaps too.
    return _as_utc(local.replace(tzinfo=tzinfo, fold=0))


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """Return an aware time in UTC, refusing one that UTC cannot hold.

    A local time late on 9999-12-31 west of Greenwich (or early on 0001-01-01
    east of it) lies outside the years ``datetime`` can represent once it is
    moved to UTC; that is bad data, never an arithmetic crash.
    """
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise TimestampOutOfRange(moment.isoformat(), "is out of range in UTC") from exc


_ISO_RE = re.compile(
    r"""
    (?P<date>\d{4}-\d{2}-\d{2})
    [T\ ]
    (?P<hour>\d{2}):(?P<minute>\d{2})
    (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
    \s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?
    """,
    re.VERBOSE | re.IGNORECASE,
)


def parse_timestamp(value: object) -> tuple[dt.datetime, bool]:
    """Parse an ISO 8601 date-time; return it and whether it carried an offset.

    With an offset (or ``Z``) the result is aware; without, it is naive local
    time for the caller to resolve. Fractions beyond microseconds are
    truncated, not rounded. Anything else raises ``TimestampError``.
    """
    if not isinstance(value, str):
        raise TimestampError(value)
    match = _ISO_RE.fullmatch(value.strip())
    if match is None:
        raise TimestampError(value)

    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    try:
        naive = dt.datetime.combine(
            dt.date.fromisoformat(match["date"]),
            dt.time(
                int(match["hour"]),
                int(match["minute"]),
                int(match["second"] or 0),
                int(fraction),
            ),
        )
        offset = _offset(match["offset"])
    except ValueError as exc:
        raise TimestampError(value, "is out of range") from exc

    if offset is None:
        return naive, False
    return naive.replace(tzinfo=offset), True


def _offset(text: str | None) -> dt.tzinfo | None:
    if text is None:
        return None
    if text.upper() == "Z":
        return dt.UTC
    return parse_offset(text)


_OFFSET_RE = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?")


def parse_offset(text: str) -> dt.timezone:
    """Parse a UTC offset such as ``-06:00``, ``+0530``, ``-7:00`` or ``+02``.

    Raises ``TimestampError`` for anything else.
    """
    match = _OFFSET_RE.fullmatch(str(text).strip())
    if match is None:
        raise TimestampError(text, "is not a UTC offset")
    hours, minutes = int(match[2]), int(match[3] or 0)
    if hours > 23 or minutes > 59:
        raise TimestampError(text, "is not a UTC offset")
    sign = -1 if match[1] == "-" else 1

    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_date_time(date: object, time: object) -> dt.datetime:
    """Combine a separate date and time into a naive datetime.

    Accepts ``YYYYMMDD`` or ``YYYY-MM-DD`` and ``HHMMSS``, ``HHMM``,
    ``HH:MM:SS`` or ``HH:MM``, as carriers send them in split fields.
    """
    date_digits = str(date or "").strip().replace("-", "")
    time_digits = str(time or "").strip().replace(":", "")
    raw = f"{date} {time}"
    if not (date_digits.isdigit() and len(date_digits) == 8):
        raise TimestampError(raw)
    if not (time_digits.isdigit() and len(time_digits) in (4, 6)):
        raise TimestampError(raw)

    try:
        return dt.datetime(
            int(date_digits[:4]),
            int(date_digits[4:6]),
            int(date_digits[6:]),
            int(time_digits[:2]),
            int(time_digits[2:4]),
            int(time_digits[4:] or 0),
        )
    except ValueError as exc:
        raise TimestampError(raw, "is out of range") from exc


def resolve_event_time(
    value: str | dt.datetime,
    *,
    city: str | None = None,
    state: str | None = None,
    country: str | None = None,
) -> ResolvedTime:
    """Return the UTC instant of an event time and how its offset was found.

    An aware value (or a string with an offset) is exact: ``payload``. A
    naive one is read in the zone of its location: ``location``; when the
    location is unknown it is read as UTC and flagged ``assumed``. Raises
    ``TimestampError`` for a string that is not a timestamp.
    """
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment, _has_offset = parse_timestamp(value)
    if moment.tzinfo is not None:
        return ResolvedTime(_as_utc(moment), TZ_PAYLOAD)

    zone = zone_for_location(city, state, country)
    if zone is not None:
        return ResolvedTime(to_utc(moment, zone), TZ_LOCATION)

    logger.debug(
        "No zone for location city=%s state=%s country=%s; reading as UTC",
        city,
        state,
        country,
    )
    return ResolvedTime(moment.replace(tzinfo=dt.UTC), TZ_ASSUMED)
