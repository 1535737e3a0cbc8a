"""Builders for the CloudEvents JSON that the ERP, WMS and TMS connections send."""

from __future__ import annotations

import uuid


def cloudevent(
    type_: str, subject: str, data: dict, *, source: str, time: str, **extra
) -> dict:
    """Return one CloudEvents 1.0 envelope as the simulators send it."""
    return {
        "specversion": "1.0",
        "id": extra.pop("id", str(uuid.uuid4())),
        "source": source,
        "type": type_,
        "subject": subject,
        "time": time,
        "correlationid": extra.pop("correlationid", ""),
        "datacontenttype": "application/json",
        "data": data,
        **extra,
    }


def tms_milestone(
    shipment: str, code: str, occurred_at: str, *, event_id: str, **data
) -> dict:
    """Return a TMS milestone in the TMS's own vocabulary."""
    type_ = {
        "DELIVERED": "shipment.delivered",
        "DELAY": "shipment.exception",
    }.get(code, "shipment.milestone")
    payload = {
        "shipment_number": shipment,
        "status_code": code,
        "occurred_at": occurred_at,
    }
    payload.update(data)
    return cloudevent(
        type_, shipment, payload, source="tms/sim", time=occurred_at, id=event_id
    )
