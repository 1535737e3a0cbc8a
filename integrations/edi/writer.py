"""Write X12 interchanges whose data can never break their own envelope.

The reader next door (``integrations.edi.x12``) survives whatever partners
send; this module writes what the hub sends, and is strict instead:

- One interchange holds one functional group. The ISA is fixed width (106
  characters with its terminator), GS/GE and ST/SE wrap the sets, and every
  count (SE01, GE01, IEA01) and trailer control number is computed here,
  never by a caller.
- Every data element is scrubbed before it is written: it is transliterated
  to ASCII with ``anyascii`` (``Müller`` becomes ``Muller``, ``ß`` becomes
  ``ss``), upper-cased for the basic character set, and any character the
  partner's character set lacks, or that is one of the interchange's
  delimiters (element, component, segment terminator, repetition), becomes
  a space; runs of spaces collapse. The repetition separator is kept out of
  data even under version 00401, where ISA11 does not declare it, so moving
  a partner to 00501 never needs the data re-checked.
- An element left empty after the last non-empty one is not written, and a
  segment with no data at all is dropped, so ``N1*ST*NAME`` never turns
  into ``N1*ST*NAME**`` (readers count elements).

The caller supplies the control numbers (see
``integrations.connectors.x12.outbound``, which allocates them per partner
under a row lock) and the creation time, so writing the same message twice
gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import string
from collections.abc import Sequence

from anyascii import anyascii

ISA_LENGTH = 106
MAX_CONTROL_NUMBER = 999_999_999

# X12.6 basic and extended character sets; lower case is extended only.
BASIC_CHARACTERS = frozenset(
    string.ascii_uppercase + string.digits + " !\"&'()*+,-./:;?="
)
EXTENDED_CHARACTERS = BASIC_CHARACTERS | frozenset(
    string.ascii_lowercase + "%@[]_{}\\|<>#$"
)
_REPETITION_FROM_VERSION = 402

# An element is text, a composite (its components in order), or absent.
Element = str | tuple[str, ...] | None
Segment = Sequence[Element]


class X12WriteError(ValueError):
    """A profile or control number that cannot give a valid interchange."""


@dataclasses.dataclass(frozen=True)
class Profile:
    """How one trading partner wants its interchanges written.

    ``sender_*``/``receiver_*`` fill ISA05-ISA08 and GS02/GS03.
    ``extended`` allows the extended character set (lower case and
    ``%@[]_{}\\|<>#$``); the default is the basic set every partner reads.
    ``line_break`` puts a newline after each segment terminator, which most
    partners accept and people can read.
    """

    sender_id: str
    receiver_id: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str = "^"
    isa_version: str = "00401"
    gs_version: str = "004010"
    usage: str = "P"
    extended: bool = False
    line_break: bool = True

    def __post_init__(self) -> None:
        delimiters = self.delimiters
        if len(set(delimiters)) != len(delimiters):
            raise X12WriteError(f"delimiters are not distinct: {delimiters!r}")
        for char in delimiters:
            if len(char) != 1 or not char.isascii() or char.isalnum() or char.isspace():
                raise X12WriteError(f"{char!r} cannot be an X12 delimiter")
        for name in ("sender_id", "receiver_id"):
            value = getattr(self, name)
            if not value or len(value) > 15 or scrub(value, profile=self) != value:
                raise X12WriteError(f"{name} {value!r} is not a valid ISA id")

    @property
    def delimiters(self) -> tuple[str, str, str, str]:
        """Return the element, component, segment and repetition characters."""
        return (self.element, self.component, self.segment, self.repetition)

    @property
    def characters(self) -> frozenset[str]:
        """Return the characters data may contain, delimiters excluded."""
        allowed = EXTENDED_CHARACTERS if self.extended else BASIC_CHARACTERS
        return allowed - frozenset(self.delimiters)

    @property
    def isa11(self) -> str:
        """Return ISA11: the repetition separator from 00402 on, else ``U``."""
        if int(self.isa_version) >= _REPETITION_FROM_VERSION:
            return self.repetition
        return "U"


@dataclasses.dataclass(frozen=True)
class Envelope:
    """The control numbers and time of one interchange."""

    interchange: int
    group: int
    transactions: tuple[int, ...]
    created_at: dt.datetime

    def __post_init__(self) -> None:
        for number in (self.interchange, self.group, *self.transactions):
            if not 0 < number <= MAX_CONTROL_NUMBER:
                raise X12WriteError(f"control number {number} is outside 1-999999999")


@dataclasses.dataclass(frozen=True)
class TransactionBody:
    """One transaction set to write: ST01 and its segments, without ST and SE."""

    code: str
    segments: Sequence[Segment]


@dataclasses.dataclass(frozen=True)
class Written:
    """An interchange as bytes, with the control numbers it carries."""

    body: bytes
    interchange_control: str
    group_control: str
    transaction_controls: tuple[str, ...]


def scrub(value: object, *, profile: Profile) -> str:
    """Return a value as data the partner can read and no delimiter can split.

    Transliterates to ASCII, upper-cases for the basic character set,
    replaces every character outside the partner's set (delimiters
    included) with a space, and collapses runs of spaces.
    """
    text = anyascii(str(value))
    if not profile.extended:
        text = text.upper()
    allowed = profile.characters
    cleaned = "".join(char if char in allowed else " " for char in text)

    return " ".join(cleaned.split())


def fit(value: object, length: int, *, profile: Profile) -> str:
    """Return ``value`` scrubbed and cut to an element's maximum length.

    Cutting after scrubbing matters: transliteration can lengthen a value
    (``½`` becomes ``1/2``).
    """
    return scrub(value, profile=profile)[:length].rstrip()


def write_interchange(
    *,
    profile: Profile,
    envelope: Envelope,
    functional_id: str,
    sets: Sequence[TransactionBody],
) -> Written:
    """Return one interchange of one functional group holding ``sets``."""
    if len(sets) != len(envelope.transactions):
        raise X12WriteError(
            f"{len(sets)} transaction sets but {len(envelope.transactions)} "
            "transaction control numbers"
        )
    isa13 = f"{envelope.interchange:09d}"
    gs06 = str(envelope.group)
    st02s = tuple(f"{number:04d}" for number in envelope.transactions)

    lines = [_isa(profile, envelope, isa13), _gs(profile, envelope, functional_id)]
    for body, st02 in zip(sets, st02s, strict=True):
        lines.extend(_transaction_set(profile, body, st02))
    lines.append(_segment(profile, ("GE", str(len(sets)), gs06)))
    lines.append(_segment(profile, ("IEA", "1", isa13)))

    return Written(
        body="".join(lines).encode("ascii"),
        interchange_control=isa13,
        group_control=gs06,
        transaction_controls=st02s,
    )


def _isa(profile: Profile, envelope: Envelope, isa13: str) -> str:
    """Return the fixed-width ISA; padding is part of the standard."""
    moment = envelope.created_at.astimezone(dt.UTC)
    elements = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        profile.sender_qualifier.ljust(2)[:2],
        profile.sender_id.ljust(15),
        profile.receiver_qualifier.ljust(2)[:2],
        profile.receiver_id.ljust(15),
        moment.strftime("%y%m%d"),
        moment.strftime("%H%M"),
        profile.isa11,
        profile.isa_version,
        isa13,
        "0",
        profile.usage,
        profile.component,
    ]
    isa = profile.element.join(elements) + profile.segment
    if len(isa) != ISA_LENGTH:
        raise X12WriteError(f"ISA is {len(isa)} characters, not {ISA_LENGTH}")

    return isa + ("\n" if profile.line_break else "")


def _gs(profile: Profile, envelope: Envelope, functional_id: str) -> str:
    moment = envelope.created_at.astimezone(dt.UTC)
    return _segment(
        profile,
        (
            "GS",
            functional_id,
            profile.sender_id,
            profile.receiver_id,
            moment.strftime("%Y%m%d"),
            moment.strftime("%H%M"),
            str(envelope.group),
            "X",
            profile.gs_version,
        ),
    )


def _transaction_set(profile: Profile, body: TransactionBody, st02: str) -> list[str]:
    written = [_segment(profile, ("ST", body.code, st02))]
    for segment in body.segments:
        line = _segment(profile, segment)
        if line:
            written.append(line)
    # SE01 counts every segment from ST to SE, both included.
    written.append(_segment(profile, ("SE", str(len(written) + 1), st02)))

    return written


def _segment(profile: Profile, segment: Segment) -> str:
    """Return one segment with its terminator, or '' when it carries no data."""
    tag, *values = segment
    elements = [_element(profile, value) for value in values]
    while elements and not elements[-1]:
        elements.pop()
    if not elements:
        return ""
    text = profile.element.join([str(tag), *elements]) + profile.segment

    return text + ("\n" if profile.line_break else "")


def _element(profile: Profile, value: Element) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        components = [scrub(part, profile=profile) for part in value]
        while components and not components[-1]:
            components.pop()
        return profile.component.join(components)
    return scrub(value, profile=profile)
