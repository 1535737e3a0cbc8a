"""Database-backed code lookups that connectors use to map external codes.

A lookup also remembers which codes it could not map, so a message left in
``needs_attention`` can name the mapping that blocked it
(``mapping:<source>:<category>:<external code>``) and be replayed by that
key once someone adds the mapping.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

from django.db.models import Q, QuerySet

from integrations.events import Problem
from integrations.models import CodeMapping, InboundMessage

CodeLookup = Callable[[str, str, str], "str | None"]

KEY_PREFIX = "mapping:"
KEY_MAX_LENGTH = InboundMessage._meta.get_field("blocked_by").max_length

# An unknown exception reason is kept as sent and never stops a message, so
# only these categories can be what blocked one.
BLOCKING_CATEGORIES = frozenset(
    {
        CodeMapping.Category.SHIPMENT_STATUS,
        CodeMapping.Category.UNIT,
        CodeMapping.Category.LOCATION,
        CodeMapping.Category.CARRIER,
    }
)


def mapping_key(*, source: str, category: str, external_code: str) -> str:
    """Return the key that names one (possibly missing) mapping."""
    code = external_code.strip().upper()
    return f"{KEY_PREFIX}{source}:{category}:{code}"[:KEY_MAX_LENGTH]


@dataclasses.dataclass(frozen=True)
class _Miss:
    category: str
    external_code: str
    key: str


class MessageCodeLookup:
    """Read each (category, source) table once per message; remember misses.

    A source's own mapping wins over the catch-all source ``*``. Call it as
    a ``CodeLookup``.
    """

    def __init__(self) -> None:
        self._tables: dict[tuple[str, str], dict[str, str]] = {}
        self.misses: list[_Miss] = []

    def __call__(self, category: str, source: str, external_code: str) -> str | None:
        table = self._table(category, source)
        code = external_code.strip().upper()
        value = table.get(code)
        if value is None and category in BLOCKING_CATEGORIES:
            key = mapping_key(source=source, category=category, external_code=code)
            self.misses.append(_Miss(category, code, key))
        return value

    def _table(self, category: str, source: str) -> dict[str, str]:
        if (category, source) not in self._tables:
            rows = CodeMapping.objects.filter(
                category=category, source__in=[source, "*"]
            ).values_list("source", "external_code", "canonical_value")
            table: dict[str, str] = {}
            # Catch-all rows first so that the source's own rows overwrite them.
            for _source, code, value in sorted(rows, key=lambda r: r[0] != "*"):
                table[code.upper()] = value
            self._tables[(category, source)] = table
        return self._tables[(category, source)]

    def with_keys(self, problems: Iterable[Problem]) -> list[Problem]:
        """Return the problems, each unmapped-code one keyed by the code it names.

        Connectors word their reasons freely but always quote the external
        code, so a problem is matched to the first missed code that appears
        in its reason as a whole word.
        """
        return [self._keyed(problem) for problem in problems]

    def _keyed(self, problem: Problem) -> Problem:
        if problem.code != "unmapped_code" or problem.key:
            return problem
        reason = problem.reason.upper()
        for miss in self.misses:
            pattern = rf"(?<![A-Z0-9]){re.escape(miss.external_code)}(?![A-Z0-9])"
            if re.search(pattern, reason):
                return dataclasses.replace(problem, key=miss.key)
        return problem


def code_lookup_for_message() -> MessageCodeLookup:
    """Return a fresh lookup for one message."""
    return MessageCodeLookup()


def blocked_by_first_key(problems: Iterable[Problem]) -> str:
    """Return the key of the first problem that names what blocked it, or ""."""
    return next((problem.key for problem in problems if problem.key), "")


def _key_filter(key: str) -> Q:
    """Match messages blocked by a key; a ``*`` source matches every source.

    A catch-all mapping fixes the code for every connection, so it unblocks
    messages from each of them.
    """
    if not key.startswith(KEY_PREFIX):
        return Q(blocked_by=key)
    source, _, rest = key.removeprefix(KEY_PREFIX).partition(":")
    if source != "*":
        return Q(blocked_by=key)
    return Q(blocked_by__startswith=KEY_PREFIX, blocked_by__endswith=f":{rest}")


def inbound_blocked_by(*, key: str) -> QuerySet[InboundMessage]:
    """Return the messages in needs attention that ``key`` blocked."""
    return InboundMessage.objects.filter(
        _key_filter(key), state=InboundMessage.State.NEEDS_ATTENTION
    )


def code_mapping_key(mapping: CodeMapping) -> str:
    """Return the blocking key a mapping resolves."""
    return mapping_key(
        source=mapping.source,
        category=mapping.category,
        external_code=mapping.external_code,
    )
