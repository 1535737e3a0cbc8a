"""Default code tables for EDIFACT partners, seeded as editable code mappings.

IFTSTA status codes (STS C555, data element 4405) are read through the
connection's code mapping like every carrier code. The defaults follow
UN/CEFACT Recommendation 24, "Trade and Transport Status Codes", as read in
its current code list (revision 6, 2017, with the later additions); codes 1
to 45 mean what they meant in the third revision, which UBL 2.0 copies.
Status reasons (STS C556, data element 9013) follow the EDIFACT
directory's status reason list as of D.01B (IFTSTA D:01B); later Rec 24
revisions repeat those reasons as status codes from 205 up, and the few of
them that name a status are in ``IFTSTA_STATUS``.

Only codes whose Rec 24 meaning is one canonical status or reason are
listed. A code left out (a clearance, a booking change, a wait, a reason
that names no party) is a problem for a person, never a default (B01). A
partner whose implementation guide gives a code another meaning is fixed in
admin, never here.
"""

from __future__ import annotations

# STS C555 (4405) to the canonical shipment status, by Rec 24 name.
IFTSTA_STATUS = {
    "6": "carrier_assigned",  # Booking, completed: the carrier holds a booking.
    "13": "picked_up",  # Collection/pick-up, completed.
    "130": "picked_up",  # Consignment received from the shipper.
    # Arrival somewhere on the way; the code does not say it is the
    # consignee, and arriving there is not a delivery either.
    "1": "in_transit",  # Arrival, completed.
    "16": "in_transit",  # Crossed a border.
    "24": "in_transit",  # Departure, completed (the means of transport).
    "31": "in_transit",  # En route to the destination.
    "35": "in_transit",  # Forwarded to a destination.
    "100": "in_transit",  # Transshipment to another means of transport.
    "127": "in_transit",  # Departed on a means of transport.
    "355": "in_transit",  # En route by a local route.
    "356": "in_transit",  # En route by a national route.
    "357": "in_transit",  # En route by an international route.
    "113": "out_for_delivery",  # Delivery, in progress.
    # Delivery not completed reads as an attempt, like X12's AP.
    "23": "delivery_attempted",  # Delivery, not completed.
    "109": "delivery_attempted",  # Delivery impossible, notice left.
    "110": "delivery_attempted",  # Delivery impossible, no notice left.
    "210": "delivery_attempted",  # Delivery, unsuccessful attempt.
    "269": "delivery_attempted",  # Delivery failed, consignee absent.
    "112": "available_for_pickup",  # Held at the consignee's disposal.
    "21": "delivered",  # Delivery, completed.
    "22": "delivered",  # Delivery, completed as instructed.
    "82": "returned_to_sender",  # Returned.
    "313": "returned_to_sender",  # Returned by the recipient.
    "17": "exception",  # Customs clearance refused.
    "18": "exception",  # Damaged in the course of transport.
    "20": "exception",  # Delayed in the course of transport.
    "25": "exception",  # Departure, delayed.
    "36": "exception",  # Not found.
    "49": "exception",  # Lost.
    "53": "exception",  # Collection/pick-up not completed.
    "101": "exception",  # Delayed in transit.
    "104": "exception",  # Delivery refused, to be re-arranged.
    "106": "exception",  # Delivery refused, in part or whole.
    "117": "exception",  # Missing.
    "119": "exception",  # Cannot be located.
    "325": "exception",  # Delivery refused by the recipient.
}

# STS C556 (9013) to the exception taxonomy of DESIGN §6, by reason name.
IFTSTA_REASON = {
    "3": "consignee",  # The consignee's agent refused delivery.
    "13": "customs",  # Customs refused clearance.
    "17": "carrier",  # The transport left late.
    "18": "carrier",  # Derailment.
    "20": "other",  # Dock strike.
    "23": "carrier",  # Equipment failure stopped delivery or collection.
    "25": "customs",  # Export restrictions.
    "28": "customs",  # Import restrictions.
    "30": "consignee",  # Incorrect address (as X12's A2).
    "31": "other",  # Industrial dispute.
    "33": "carrier",  # Lost in the transport chain.
    "34": "carrier",  # The means of transport was damaged.
    "35": "carrier",  # Mechanical breakdown.
    "37": "shipper",  # Documents missing or incorrect (as X12's BC).
    "43": "shipper",  # Package not ready for collection.
    "53": "carrier",  # Sorted to a wrong route.
    "58": "carrier",  # Delayed in transit.
    "59": "carrier",  # The goods cannot be located.
    "63": "weather",  # Weather conditions.
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
