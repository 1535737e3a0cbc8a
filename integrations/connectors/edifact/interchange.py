"""Split an EDIFACT file into interchanges and messages with pydifact.

The rules, which decide between a warning and a refusal:

- The service string advice (UNA) is honoured: its six characters set the
  separators, decimal mark, release character and terminator. Without UNA
  the defaults ``:+.? '`` apply.
- Line breaks are not data in EDIFACT: files hard-wrapped at a fixed width
  (breaks inside tags, values and the UNA itself) are joined first, unless
  the terminator itself is a line break.
- A file without UNB is refused (``invalid_envelope``), and so is one the
  tokenizer cannot read.
- A message is used only when it is complete: UNH through UNT. A message
  cut off before its UNT is refused; the complete ones are used.
- A missing UNZ, a UNZ or UNT whose count or reference disagrees, is a
  warning: the data of complete messages is used and the warning is
  logged with the connection (senders truncate the trailer far more often
  than they corrupt a message that still ends in UNT).
"""

from __future__ import annotations

import dataclasses
import warnings

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.parser import Parser

Elements = list[str | list[str]]


@dataclasses.dataclass
class Message:
    """One UNH..UNT message: its reference, type, version and segments."""

    reference: str
    type: str
    version: str
    segments: list[tuple[str, Elements]]


@dataclasses.dataclass
class Interchange:
    """What one file held: the UNB reference and date, messages and findings."""

    reference: str = ""
    sender: str = ""
    prepared: tuple[str, str] = ("", "")
    messages: list[Message] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


class EnvelopeError(Exception):
    """A file that is not a readable EDIFACT interchange."""


def component(elements: Elements, position: int, index: int = 0) -> str:
    """Return one component of an element (0-based), or '' when absent."""
    if position >= len(elements):
        return ""
    value = elements[position]
    if isinstance(value, list):
        return (value[index] if index < len(value) else "") or ""
    return value if index == 0 else ""


def parse_interchange(raw: bytes) -> Interchange:
    """Read a file into its interchange; raise ``EnvelopeError`` if unreadable."""
    text = _unwrapped(_decoded(raw))
    if not text.startswith(("UNA", "UNB")):
        raise EnvelopeError("no UNB interchange header: not an EDIFACT interchange")
    segments = _segments(text)
    if not segments or segments[0][0] != "UNB":
        raise EnvelopeError("no UNB interchange header: not an EDIFACT interchange")

    unb = segments[0][1]
    interchange = Interchange(
        reference=component(unb, 4),
        sender=component(unb, 1),
        prepared=(component(unb, 3, 0), component(unb, 3, 1)),
    )
    _walk(interchange, segments[1:])
    return interchange


def _decoded(raw: bytes) -> str:
    # UNOA/UNOB are ASCII, UNOC-UNOK ISO 8859, UNOY UTF-8: UTF-8 reads the
    # first two and the last; anything else is read as Latin-1, which never
    # fails and keeps every byte.
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _unwrapped(text: str) -> str:
    text = text.lstrip()
    una = text[:9]
    if (
        una.startswith("UNA")
        and len(una) == 9
        and una[8] == "\n"
        and "\n" not in una[:8]
    ):
        # A newline is this sender's segment terminator: the breaks are data.
        return text.replace("\r\n", "\n")
    return text.replace("\r", "").replace("\n", "").strip()


def _segments(text: str) -> list[tuple[str, Elements]]:
    parser = Parser(characters=Characters(decimal_point="."))
    try:
        with warnings.catch_warnings():
            # pydifact warns about empty segments; the envelope rules judge them.
            warnings.simplefilter("ignore")
            parsed = list(parser.parse(text))
    except (EDISyntaxError, ValidationError, ValueError, IndexError) as exc:
        raise EnvelopeError(f"the EDIFACT tokenizer stopped: {exc}") from exc

    return [
        (segment.tag, list(segment.elements))
        for segment in parsed
        if segment.tag != "UNA"
    ]


def _walk(interchange: Interchange, segments: list[tuple[str, Elements]]) -> None:
    current: Message | None = None
    for tag, elements in segments:
        if tag == "UNH":
            if current is not None:
                interchange.errors.append(_cut_off(current))
            current = Message(
                reference=component(elements, 0),
                type=component(elements, 1, 0),
                version=":".join(component(elements, 1, index) for index in (1, 2, 3)),
                segments=[],
            )
        elif tag == "UNT" and current is not None:
            _check_trailer(interchange, current, elements)
            interchange.messages.append(current)
            current = None
        elif tag == "UNZ":
            _check_unz(interchange, elements)
            return
        elif current is not None:
            current.segments.append((tag, elements))

    if current is not None:
        interchange.errors.append(_cut_off(current))
    interchange.warnings.append(
        f"interchange {interchange.reference} has no UNZ trailer; "
        f"its {len(interchange.messages)} complete message(s) are used"
    )


def _cut_off(message: Message) -> str:
    return f"message {message.reference} ({message.type}) ends before its UNT"


def _check_trailer(interchange: Interchange, message: Message, unt: Elements) -> None:
    # UNT counts every segment of the message, UNH and UNT included.
    actual = len(message.segments) + 2
    declared = component(unt, 0)
    if declared != str(actual):
        interchange.warnings.append(
            f"message {message.reference}: UNT says {declared} segments, "
            f"{actual} present"
        )
    if component(unt, 1) != message.reference:
        interchange.warnings.append(
            f"message {message.reference}: UNT reference {component(unt, 1)} "
            "does not match UNH"
        )


def _check_unz(interchange: Interchange, unz: Elements) -> None:
    declared = component(unz, 0)
    if declared != str(len(interchange.messages)):
        interchange.warnings.append(
            f"interchange {interchange.reference}: UNZ says {declared} messages, "
            f"{len(interchange.messages)} present"
        )
    if component(unz, 1) != interchange.reference:
        interchange.warnings.append(
            f"interchange {interchange.reference}: UNZ reference "
            f"{component(unz, 1)} does not match UNB"
        )
