"""Default code tables for the stand-in TMS's own vocabulary."""

# TMS status words → canonical shipment status (DESIGN §6).
TMS_STATUS = {
    "TENDERED": "tendered",
    "ACCEPTED": "carrier_assigned",
    "PICKUP": "picked_up",
    "DEPARTED": "in_transit",
    "ARRIVED_HUB": "in_transit",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "ATTEMPTED": "delivery_attempted",
    "HELD_AT_DEPOT": "available_for_pickup",
    "DELIVERED": "delivered",
    "DELAY": "exception",
    "RETURNED": "returned_to_sender",
    "CANCELLED": "cancelled",
}

# TMS reason words → the exception taxonomy's stable codes.
TMS_EXCEPTION_REASON = {
    "weather": "weather",
    "customs": "customs",
    "carrier": "carrier",
    "mechanical": "carrier",
    "consignee": "consignee",
    "address": "consignee",
    "shipper": "shipper",
    "other": "other",
}
