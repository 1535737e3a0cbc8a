"""Database-backed code lookups that connectors use to map external codes."""

from __future__ import annotations

from collections.abc import Callable

from integrations.models import CodeMapping

CodeLookup = Callable[[str, str, str], "str | None"]


def code_lookup_for_message() -> CodeLookup:
    """Return a lookup that reads each (category, source) table once per message.

    A source's own mapping wins over the catch-all source ``*``.
    """
    cache: dict[tuple[str, str], dict[str, str]] = {}

    def lookup(category: str, source: str, external_code: str) -> str | None:
        key = (category, source)
        if key not in cache:
            rows = CodeMapping.objects.filter(
                category=category, source__in=[source, "*"]
            ).values_list("source", "external_code", "canonical_value")
            table: dict[str, str] = {}
            # Catch-all rows first so that the source's own rows overwrite them.
            for _source, code, value in sorted(rows, key=lambda r: r[0] != "*"):
                table[code.upper()] = value
            cache[key] = table
        return cache[key].get(external_code.strip().upper())

    return lookup
