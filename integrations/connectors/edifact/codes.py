"""Default code tables for EDIFACT partners, seeded as editable code mappings.

IFTSTA status codes (STS, data element 4405) are read through the
connection's code mapping like every carrier code. The defaults below are
the codes of the implementation guide the demo partner follows; a partner
with another guide is fixed in admin, never here. A code the table lacks is
a problem for a person, never a default status (B01).
"""

from __future__ import annotations

IFTSTA_STATUS = {
    "1": "carrier_assigned",  # Consignment information received.
    "5": "picked_up",  # Collected from the consignor.
    "11": "in_transit",  # Arrived at a terminal.
    "12": "in_transit",  # Departed a terminal.
    "17": "out_for_delivery",
    "18": "delivery_attempted",
    "20": "available_for_pickup",
    "21": "delivered",
    "22": "exception",  # Delivery not possible.
    "25": "returned_to_sender",
}

IFTSTA_REASON = {
    "AA": "consignee",  # Consignee not at home.
    "AB": "consignee",  # Refused by the consignee.
    "AC": "consignee",  # Address incorrect.
    "AD": "weather",
    "AE": "customs",
    "AF": "carrier",  # Damaged in transit.
}

# Message types by UNH 0065, for readable reasons about what is not taken.
MESSAGE_NAMES = {
    "IFTSTA": "international multimodal status report",
    "DESADV": "despatch advice",
    "INVOIC": "invoice",
    "ORDERS": "purchase order",
    "ORDRSP": "purchase order response",
    "ORDCHG": "purchase order change",
    "RECADV": "receiving advice",
    "INVRPT": "inventory report",
    "IFTMIN": "instruction message",
    "APERAK": "application error and acknowledgement",
    "CONTRL": "syntax and service report",
}
