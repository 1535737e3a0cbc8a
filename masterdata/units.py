"""Decimal unit arithmetic: weights, counts and rounding, never floats.

Quantities are stored in the item's base unit; a conversion to another unit
is for display or for a partner that asks for it, and is never stored back,
so 59 EA shown as 4.9167 CS never returns as 59.0004 EA. Rounding is half-up
to a stated number of places (1234 g is 1.23 kg, not 1.24).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Exact factors: the pound and ounce are defined in kilograms.
KILOGRAMS_PER = {
    "KG": Decimal("1"),
    "G": Decimal("0.001"),
    "LB": Decimal("0.45359237"),
    "OZ": Decimal("0.028349523125"),
}


class UnitError(ValueError):
    """A value or unit that cannot be converted, with a readable reason."""


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Return ``value`` rounded half-up to ``places`` decimal places."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def exact_decimal(value: object) -> Decimal:
    """Return a Decimal for a parsed number; refuse a float.

    A float has already lost digits (``1800.0000000000016``); callers parse
    JSON with ``parse_float=Decimal`` so a float here is a programming error.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise UnitError(f"{value!r} is a binary float; parse numbers as Decimal")
    try:
        result = Decimal(str(value).strip())
    except ArithmeticError as exc:
        raise UnitError(f"{value!r} is not a number") from exc
    if not result.is_finite():
        raise UnitError(f"{value!r} is not a finite number")
    return result


def weight_in_kg(value: Decimal, unit: str, *, places: int = 3) -> Decimal:
    """Convert a weight to kilograms, rounded half-up to ``places``."""
    factor = KILOGRAMS_PER.get(unit.upper())
    if factor is None:
        known = ", ".join(sorted(KILOGRAMS_PER))
        raise UnitError(f"weight unit {unit!r} is not one of {known}")
    return round_half_up(value * factor, places)
