"""Default code tables for carrier tracking feeds.

These seed the admin-editable code mappings; the connector itself only ever
reads codes through a lookup, so a carrier that renames a scan is fixed in
admin, never here. Every table maps a code to at most ``carrier_assigned``
while the carrier only knows of a label: a label is not a pickup (B01).
Codes a table does not list are unmapped on purpose and go to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

# A generic JSON carrier such as the demo's CRX.
GENERIC_STATUS = {
    "LBL": "carrier_assigned",  # Label created, awaiting pickup.
    "MAN": "carrier_assigned",  # Manifest received.
    "PU": "picked_up",
    "IT": "in_transit",
    "AR": "in_transit",  # Arrived at a facility.
    "DP": "in_transit",  # Departed a facility.
    "OFD": "out_for_delivery",
    "ATT": "delivery_attempted",
    "HLD": "available_for_pickup",
    "DLV": "delivered",
    "EXC": "exception",
    "DLY": "exception",
    "RTS": "returned_to_sender",
    "CXL": "cancelled",
}

GENERIC_EXCEPTION_REASON = {
    "WEATHER": "weather",
    "CUSTOMS": "customs",
    "ADDRESS": "consignee",
    "REFUSED": "consignee",
    "CLOSED": "consignee",
    "DAMAGED": "carrier",
    "MECHANICAL": "carrier",
    "MISSORT": "carrier",
    "SHIPPER": "shipper",
    "OTHER": "other",
}

# UPS activity ``status.type``: UPS's documented coarse class of a scan. Its
# ``status.code`` is a detailed scan code from an open list of hundreds.
UPS_STATUS_TYPE = {
    "M": "carrier_assigned",  # Billing information received: a label only.
    "MV": "cancelled",  # Billing information voided.
    "P": "picked_up",
    "I": "in_transit",
    "W": "in_transit",  # Warehousing.
    "DO": "in_transit",  # Delivered to the origin freight station, not a person.
    "DD": "in_transit",  # Delivered to the destination freight station.
    "O": "out_for_delivery",
    "D": "delivered",
    "X": "exception",
    "RS": "returned_to_sender",
}

# FedEx scan event types.
FEDEX_EVENT_TYPE = {
    "OC": "carrier_assigned",  # Shipment information sent to FedEx.
    "PU": "picked_up",
    "PX": "picked_up",
    "IP": "picked_up",  # In FedEx possession.
    "AR": "in_transit",
    "AF": "in_transit",
    "DP": "in_transit",
    "IT": "in_transit",
    "LO": "in_transit",
    "AA": "in_transit",
    "CP": "in_transit",  # Clearance in progress.
    # A delivery option the recipient asked for: the parcel is still moving.
    "RR": "in_transit",
    "OD": "out_for_delivery",
    "HL": "available_for_pickup",
    "HP": "available_for_pickup",  # Held at a FedEx location for pickup.
    "DL": "delivered",
    "DE": "exception",  # Delivery exception.
    "SE": "exception",
    "DY": "exception",
    "CD": "exception",  # Clearance delay.
    "PD": "exception",  # Pickup delay.
    "RS": "returned_to_sender",
    "CA": "cancelled",
}

# USPS tracking event codes.
USPS_EVENT_CODE = {
    "MA": "carrier_assigned",  # Pre-shipment information sent to USPS.
    "GX": "carrier_assigned",  # Shipping label created, USPS awaiting item.
    "NP": "carrier_assigned",  # Origin post is preparing the shipment.
    "03": "picked_up",  # Accepted: USPS in possession of the item.
    "OA": "picked_up",  # Accepted at the USPS origin facility.
    "EF": "in_transit",  # Departed a USPS facility.
    "PC": "in_transit",  # Sorting complete.
    "10": "in_transit",
    "SF": "in_transit",
    "T1": "in_transit",
    "TL": "in_transit",
    "A1": "in_transit",
    "07": "in_transit",
    "OF": "out_for_delivery",
    "02": "delivery_attempted",  # Notice left.
    "16": "available_for_pickup",
    "01": "delivered",
}

# Canada Post tracking event identifiers.
CANADAPOST_EVENT = {
    "3000": "carrier_assigned",  # Order information received.
    "2300": "picked_up",
    "0100": "in_transit",  # Processed at a postal facility.
    "0173": "exception",  # Customer addressing error; possible delay.
    "0174": "out_for_delivery",
    "0500": "out_for_delivery",
    "1496": "delivered",
    # The signature image of a delivery: recorded with the delivery itself.
    "20": "delivered",
}

# EasyPost's normalised tracker statuses (its ``unknown`` and ``error`` say
# nothing and stay unmapped).
EASYPOST_STATUS = {
    "pre_transit": "carrier_assigned",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "available_for_pickup",
    "delivered": "delivered",
    "return_to_sender": "returned_to_sender",
    "failure": "exception",
    "cancelled": "cancelled",
}

# DHL: the Unified API's coarse ``statusCode`` and MyDHL Express event
# ``typeCode`` values, which never collide, in one table per connection.
DHL_STATUS = {
    "pre-transit": "carrier_assigned",
    "transit": "in_transit",
    "delivered": "delivered",
    "failure": "exception",
    "PU": "picked_up",  # Shipment picked up.
    "PL": "in_transit",  # Processed at a DHL location.
    "AF": "in_transit",  # Arrived at a facility.
    "DF": "in_transit",  # Departed a facility.
    "AR": "in_transit",  # Arrived at the delivery facility.
    "WC": "out_for_delivery",  # With the delivery courier.
    "OK": "delivered",
}

# AfterShip checkpoint tags (``Pending``, ``Expired`` and ``InfoReceived``
# before a carrier scan say nothing about the parcel's place; only
# ``InfoReceived`` is a label and maps to carrier_assigned).
AFTERSHIP_TAG = {
    "InfoReceived": "carrier_assigned",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AttemptFail": "delivery_attempted",
    "AvailableForPickup": "available_for_pickup",
    "Delivered": "delivered",
    "Exception": "exception",
}

# DCSA Track & Trace actual movements, as ``<eventType>.<code>``. A
# container loaded, moved or discharged is in transit; stuffing hands the
# goods to the carrier. Stripping and empty returns say nothing about the
# consignee and stay unmapped for a person.
DCSA_EVENT = {
    "EQUIPMENT.STUF": "picked_up",
    "EQUIPMENT.GTIN": "in_transit",
    "EQUIPMENT.GTOT": "in_transit",
    "EQUIPMENT.LOAD": "in_transit",
    "EQUIPMENT.DISC": "in_transit",
    "TRANSPORT.DEPA": "in_transit",
    "TRANSPORT.ARRI": "in_transit",
}

# Code list name → shipment-status table, for seeding code mappings.
STATUS_TABLES: dict[str, dict[str, str]] = {
    "carrier": GENERIC_STATUS,
    "ups": UPS_STATUS_TYPE,
    "fedex": FEDEX_EVENT_TYPE,
    "usps": USPS_EVENT_CODE,
    "canadapost": CANADAPOST_EVENT,
    "easypost": EASYPOST_STATUS,
    "dhl": DHL_STATUS,
    "aftership": AFTERSHIP_TAG,
    "dcsa": DCSA_EVENT,
}


def static_lookup(
    tables: Mapping[tuple[str, str], Mapping[str, str]],
) -> CodeLookup:
    """Return a lookup over in-memory tables keyed by (category, source).

    Codes compare case-insensitively, as the database-backed lookup does.
    """
    folded = {
        key: {code.strip().upper(): value for code, value in table.items()}
        for key, table in tables.items()
    }

    def lookup(category: str, source: str, external_code: str) -> str | None:
        table = folded.get((category, source), {})
        return table.get(external_code.strip().upper())

    return lookup
