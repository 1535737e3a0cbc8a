"""The canonical event envelope every connector produces and every handler takes.

An event carries the CloudEvents 1.0 attributes (``id``, ``source``, ``type``,
``subject``, ``time``) plus ``correlationid``, the order number the whole
chain belongs to. ``data`` is the canonical payload; its keys per type are:

``order.released``
    ``order_number``, ``account_number``, ``po_number``, ``ship_from``
    (warehouse code), ``ship_to`` (address code), ``requested_date``
    (ISO date), ``lines``: list of ``{line_number, sku, quantity, unit}``.
``order.allocated`` / ``order.picked``
    ``order_number``.
``shipment.packed``
    ``order_number``, ``shipment_number``, ``ship_from``, ``packages``: list of
    ``{sscc, weight_kg, length_cm, width_cm, height_cm}``, ``lines``: list of
    ``{line_number, sku, quantity}`` shipped.
``shipment.planned``
    ``shipment_number``, ``carrier_scac``, ``service_code``,
    ``tracking_numbers``, ``eta`` (ISO datetime) or ``eta_date`` (ISO date),
    ``freight_estimate`` (decimal string), ``currency``.
``shipment.milestone`` / ``shipment.exception`` / ``shipment.delivered``
    ``shipment_number`` or ``tracking_number``; ``status`` (canonical),
    ``external_code``, ``description``, ``kind`` (actual/estimated/planned),
    ``occurred_at`` (ISO datetime, UTC), ``tz_source``, ``city``, ``state``,
    ``country``, ``reason_code`` (exceptions), ``eta``/``eta_date``
    (estimates); delivered adds ``signed_by`` and ``pod`` ``{filename,
    content_type, content_base64}``.
``invoice.released``
    ``order_number``, ``invoice_number``, ``amount``, ``currency``,
    ``document`` ``{filename, content_type, content_base64}``.
``x12.acknowledged``
    A partner's 997 for one group the hub sent: ``functional_id``,
    ``group`` (GS06), ``status`` (AK901), ``included``, ``received``,
    ``accepted``, ``codes`` (AK904-AK908), ``sets``: list of ``{code,
    control, status, codes, segments}`` with AK3/AK4 errors, ``interchange``.
``freight.invoiced``
    ``invoice_number``, ``carrier_scac``, ``pro_number``, ``bol_number``,
    ``references``: list of ``{qualifier, value}``, ``invoiced_on`` (ISO
    date), ``amount`` (decimal string), ``currency``, ``payment_method``,
    ``lines``: list of ``{line_number, rate, rate_qualifier, charge,
    charge_code, description}`` (rate and charge decimal strings).
``inventory.snapshot``
    ``warehouse`` (warehouse code), ``report_id``, ``as_of`` (ISO datetime),
    ``items``: list of ``{sku, quantity, unit, quantity_qualifier}``: the
    whole available quantity of each item, replacing what the hub held.
``inventory.received``
    ``warehouse``, ``receipt_number``, ``reference`` (the depositor's
    transfer number), ``received_at`` (ISO datetime), ``lines``: list of
    ``{line_number, sku, quantity, unit, lot}``: quantities added to stock.
``return.authorized``
    ``return_number``, ``decision`` (``authorized`` or ``rejected``),
    ``rma_number``: the ERP's answer to an authorisation request.
``return.received``
    ``return_number`` plus the keys of ``inventory.received``: goods of a
    return request arrived at the warehouse.

A ``shipment.milestone`` or ``shipment.exception`` from a 990 (load tender
response) adds ``carrier_scac`` and ``carrier_reference`` (the carrier's PRO).

Everything a handler needs is in ``data``; nothing outside ``integrations``
reads an external payload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


class BatchOutcome:
    """What a batch handler did with each payload of a run (``BATCH_HANDLERS``)."""

    APPLIED = "applied"  # applied in the run's transaction
    DEFERRED = "deferred"  # left for the one-by-one path, which rejects it
    CUT = ""  # not reached: from here on the run waits for the one-by-one path


class EventType:
    """The canonical event types of DESIGN §5."""

    ORDER_RELEASED = "order.released"
    ORDER_ALLOCATED = "order.allocated"
    ORDER_PICKED = "order.picked"
    SHIPMENT_PACKED = "shipment.packed"
    SHIPMENT_PLANNED = "shipment.planned"
    SHIPMENT_MILESTONE = "shipment.milestone"
    SHIPMENT_DELIVERED = "shipment.delivered"
    SHIPMENT_EXCEPTION = "shipment.exception"
    INVOICE_RELEASED = "invoice.released"
    RETURN_REQUESTED = "return.requested"
    RETURN_AUTHORIZED = "return.authorized"
    RETURN_RECEIVED = "return.received"
    INVENTORY_SNAPSHOT = "inventory.snapshot"
    INVENTORY_RECEIVED = "inventory.received"
    FREIGHT_INVOICED = "freight.invoiced"
    X12_ACKNOWLEDGED = "x12.acknowledged"


@dataclasses.dataclass(frozen=True)
class Event:
    """A canonical event as a connector produced it, before it is stored."""

    id: str
    source: str
    type: str
    subject: str
    time: dt.datetime
    data: dict[str, Any]
    correlationid: str = ""

    def as_cloudevent(self) -> dict[str, Any]:
        """Return the event as a CloudEvents 1.0 JSON-ready dict."""
        return {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "correlationid": self.correlationid,
            "datacontenttype": "application/json",
            "data": self.data,
        }


@dataclasses.dataclass(frozen=True)
class Problem:
    """Part of a message that could not become an event, with a readable reason.

    ``code`` is stable: ``unmapped_code``, ``unknown_reference``,
    ``invalid_value`` (one bad field), ``invalid_message`` (the body is not
    the expected shape), ``invalid_envelope`` (an EDI envelope fails its
    checks), ``unsupported_document``;
    ``reason`` is the sentence customer service reads; ``key`` names what
    must be fixed for a replay to succeed, such as
    ``mapping:<source>:<category>:<external code>``, or is empty.
    """

    code: str
    reason: str
    key: str = ""


@dataclasses.dataclass
class ParseResult:
    """What a connector made of one inbound message."""

    events: list[Event] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
