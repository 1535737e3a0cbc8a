"""Read carrier XML safely, by local element names.

Partner XML is parsed with ``defusedxml``, never the plain standard-library
parser: a document that declares entities (billion laughs) or points at
external ones (XXE) is refused as a whole. Carriers put their elements in
namespaces that change between API versions, so lookups here compare local
names only.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from integrations.connectors.carrier.scans import Unusable, text


def parse_xml(body: bytes, *, carrier: str) -> Element:
    """Return the root element of a carrier XML body, or raise ``Unusable``.

    Whitespace before the XML declaration is dropped first: Canada Post has
    sent one leading space, which strict parsers reject.
    """
    try:
        return fromstring(body.lstrip())
    except DefusedXmlException as exc:
        raise Unusable(
            "invalid_message",
            f"{carrier} XML refused: entity declarations are not accepted ({exc})",
        ) from exc
    except ParseError as exc:
        raise Unusable("invalid_message", f"{carrier} body is not XML: {exc}") from exc
    except LookupError as exc:
        # The XML declaration names an encoding Python does not know.
        raise Unusable(
            "invalid_message", f"{carrier} XML declares an unknown encoding: {exc}"
        ) from exc


def local(element: Element) -> str:
    """Return an element's tag without its namespace."""
    return element.tag.rsplit("}", 1)[-1]


def children(element: Element | None, name: str) -> Iterator[Element]:
    """Yield the direct children called ``name``, in document order."""
    if element is None:
        return
    for item in element:
        if isinstance(item.tag, str) and local(item) == name:
            yield item


def child(element: Element | None, name: str) -> Element | None:
    """Return the first direct child called ``name``, or None."""
    return next(children(element, name), None)


def child_text(element: Element | None, *path: str) -> str:
    """Return the stripped text at a path of child names, or ''."""
    for name in path:
        element = child(element, name)
    if element is None:
        return ""
    return text(element.text)


def descendants(element: Element, name: str) -> Iterator[Element]:
    """Yield every element below ``element`` called ``name``."""
    for item in element.iter():
        if isinstance(item.tag, str) and local(item) == name and item is not element:
            yield item
