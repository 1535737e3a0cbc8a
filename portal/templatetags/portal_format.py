"""Template filters of the portal: times in the account's zone, ETAs, quantities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

# Minutes and the zone's abbreviation (EST, CET, UTC), so a reader never has
# to guess which clock a time was read from.
STAMP_FORMAT = "Y-m-d H:i T"
NOTHING = "—"


@register.filter
def stamp(value: dt.datetime | None) -> SafeString | str:
    """Render an aware time in the active (account's) zone with its abbreviation."""
    if value is None:
        return NOTHING
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>',
        local.isoformat(timespec="minutes"),
        date_format(local, STAMP_FORMAT),
    )


@register.filter
def day(value: dt.date | None) -> SafeString | str:
    """Render a calendar date that has no time of day."""
    if value is None:
        return NOTHING
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), value)


@register.filter
def estimate(value: Any) -> SafeString | str:
    """Render an object's ``eta``, or its ``eta_date`` when only a date is known."""
    if getattr(value, "eta", None) is not None:
        return stamp(value.eta)
    return day(getattr(value, "eta_date", None))


@register.filter
def qty(value: Decimal | None) -> str:
    """Render a quantity without trailing zeros or an exponent."""
    if value is None:
        return NOTHING
    return f"{value.normalize():f}"


@register.simple_tag
def carrier_tracking_url(carrier: Any, tracking_number: str) -> str:
    """Return the carrier's tracking page for a number, or "" when unknown.

    A carrier's ``tracking_url_template`` holds ``{tracking_number}`` where
    the number goes; only web addresses are used.
    """
    pattern = getattr(carrier, "tracking_url_template", "") or ""
    if "{tracking_number}" not in pattern or not pattern.startswith(
        ("https://", "http://")
    ):
        return ""
    return pattern.replace("{tracking_number}", quote(tracking_number, safe=""))
