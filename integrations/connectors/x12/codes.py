"""Default code tables for X12 files, from the published X12 code lists.

The shipment-status, exception-reason and unit tables seed the admin-editable
code mappings; the mapper reads those only through a lookup, so a partner's
own use of a code is fixed in admin, never here. Codes a table leaves out
are unmapped on purpose and go to a person (B01). The time-code and
transaction-set tables are fixed by the standard and used directly.

Sources: X12 element 1650 (Shipment Status Code), 1651 (Shipment Status or
Appointment Reason Code), 623 (Time Code), 355 (Unit or Basis for
Measurement Code) and 188 (Weight Unit Code), as published for 004010 to
005010.
"""

from __future__ import annotations

from decimal import Decimal

# AT701 (element 1650): the canonical status and the code's X12 meaning. A
# carrier at the pick-up location has not picked anything up yet (B01), and
# arriving at the delivery location is not a delivery.
AT7_STATUS: dict[str, tuple[str, str]] = {
    "XB": ("carrier_assigned", "Shipment Acknowledged"),
    "X3": ("carrier_assigned", "Arrived at Pick-up Location"),
    "X8": ("carrier_assigned", "Arrived at Pick-up Location Loading Dock"),
    "L1": ("carrier_assigned", "Loading"),
    "CP": ("picked_up", "Completed Loading at Pick-up Location"),
    "AF": ("picked_up", "Carrier Departed Pick-up Location with Shipment"),
    "AM": ("picked_up", "Loaded on Truck"),
    "BA": ("picked_up", "Connecting Line or Cartage Pick-up"),
    "R1": ("in_transit", "Received from Prior Carrier"),
    "J1": ("in_transit", "Delivered to Connecting Line"),
    "X4": ("in_transit", "Arrived at Terminal Location"),
    "P1": ("in_transit", "Departed Terminal Location"),
    "X6": ("in_transit", "En Route to Delivery Location"),
    "RL": ("in_transit", "Rail Departure from Origin Intermodal Ramp"),
    "AR": ("in_transit", "Rail Arrival at Destination Intermodal Ramp"),
    "I1": ("in_transit", "In-Gate"),
    "OA": ("in_transit", "Out-Gate"),
    "K1": ("in_transit", "Arrived at Customs"),
    "AN": ("in_transit", "Diverted to Air Carrier"),
    "AI": ("in_transit", "Shipment has been Reconsigned"),
    "BC": ("in_transit", "Storage in Transit"),
    "RH": ("in_transit", "Shipment Conveyance Released from Hold"),
    "BR": ("in_transit", "Shipment Conveyance Released From Bad Order"),
    "AV": ("in_transit", "Available for Delivery"),
    "AJ": ("out_for_delivery", "Tendered for Delivery"),
    "X1": ("out_for_delivery", "Arrived at Delivery Location"),
    "X5": ("out_for_delivery", "Arrived at Delivery Location Loading Dock"),
    "S1": ("out_for_delivery", "Trailer Spotted at Consignee's Location"),
    "AH": ("delivery_attempted", "Attempted Delivery"),
    "AP": ("delivery_attempted", "Delivery Not Completed"),
    "AW": ("available_for_pickup", "Shipment Available for Pick-up"),
    "D1": ("delivered", "Completed Unloading at Delivery Location"),
    "CB": ("delivered", "Completed Shipment"),
    "A3": ("returned_to_sender", "Shipment Returned to Shipper"),
    "A7": ("exception", "Refused by Consignee"),
    "A9": ("exception", "Shipment Damaged"),
    "SD": ("exception", "Shipment Delayed"),
    "PA": ("exception", "Partial Shipment"),
    "PR": ("exception", "U.S. Customs Hold at In-Bond Location"),
    "BO": ("exception", "Shipment Conveyance Reported Bad Order"),
    "CA": ("cancelled", "Shipment Cancelled"),
    # Estimates: the status they foresee, never a status reached (kind
    # "estimated"); the AT7 date and time are the estimate.
    "AG": ("delivered", "Estimated Delivery"),
    "X2": (
        "delivered",
        "Estimated Date and/or Time of Arrival at Consignee's Location",
    ),
    "C1": ("in_transit", "Estimated to Depart Terminal Location"),
    "B6": ("in_transit", "Estimated to Arrive at Carrier Terminal"),
}
# CD (Carrier Departed Delivery Location) is left out: it follows a delivery
# as often as a failed attempt, and only the partner can say which.

SHIPMENT_STATUS = {code: status for code, (status, _) in AT7_STATUS.items()}
STATUS_DESCRIPTION = {code: text for code, (_, text) in AT7_STATUS.items()}
ESTIMATE_CODES = frozenset({"AG", "X2", "C1", "B6"})

# AT702 (element 1651) "Normal Status": the status carries no exception.
NORMAL_REASON = "NS"

# AT702 (element 1651) to the exception taxonomy of DESIGN §6.
EXCEPTION_REASON = {
    "A1": "carrier",  # Missed Delivery
    "A2": "consignee",  # Incorrect Address
    "A5": "consignee",  # Unable to Locate
    "A6": "consignee",  # Address Corrected - Delivery Attempted
    "AA": "carrier",  # Mis-sort
    "AD": "consignee",  # Customer Requested Future Delivery
    "AE": "shipper",  # Restricted Articles Unacceptable
    "AF": "carrier",  # Accident
    "AG": "consignee",  # Consignee Related
    "AH": "carrier",  # Driver Related
    "AI": "carrier",  # Mechanical Breakdown
    "AJ": "carrier",  # Other Carrier Related
    "AK": "carrier",  # Damaged, Rewrapped in Hub
    "AL": "carrier",  # Previous Stop
    "AM": "shipper",  # Shipper Related
    "AN": "other",  # Holiday - Closed
    "AO": "weather",  # Weather or Natural Disaster Related
    "AP": "customs",  # Awaiting Export
    "AQ": "consignee",  # Recipient Unavailable - Delivery Delayed
    "AR": "customs",  # Improper International Paperwork
    "AS": "customs",  # Hold Due to Customs Documentation Problems
    "AT": "customs",  # Unable to Contact Recipient for Broker Information
    "AU": "other",  # Civil Event Related Delay
    "AV": "shipper",  # Exceeds Service Limitations
    "AW": "shipper",  # Past Cut-off Time
    "AX": "shipper",  # Insufficient Pick-up Time
    "AY": "carrier",  # Missed Pick-up
    "B1": "consignee",  # Consignee Closed
    "B4": "consignee",  # Held for Payment
    "B5": "consignee",  # Held for Consignee
    "B8": "consignee",  # Improper Unloading Facility or Equipment
    "B9": "consignee",  # Receiving Time Restricted
    "BB": "shipper",  # Held per Shipper
    "BC": "shipper",  # Missing Documents
    "BD": "customs",  # Border Clearance
    "BE": "weather",  # Road Conditions
    "BF": "carrier",  # Carrier Keying Error
    "BG": "other",  # Other
    "BH": "carrier",  # Insufficient Time to Complete Delivery
    "BO": "carrier",  # Railroad Failed to Meet Schedule
    "BP": "carrier",  # Load Shifted
    "BQ": "shipper",  # Shipment Overweight
    "BR": "carrier",  # Train Derailment
    "BS": "consignee",  # Refused by Customer
    "BT": "other",  # Returned to Shipper: the code does not say whose doing
    "C1": "consignee",  # Waiting for Customer Pick-up
    "C2": "shipper",  # Credit Hold
    "C3": "consignee",  # Suspended at Customer Request
    "C4": "consignee",  # Customer Vacation
    "C5": "consignee",  # Customer Strike
    "C6": "shipper",  # Waiting Shipping Instructions
    "C8": "consignee",  # Collect on Delivery Required
    "C9": "consignee",  # Cash Not Available From Consignee
    "CA": "customs",  # Customs (Import or Export)
    "D1": "carrier",  # Carrier Dispatch Error
    "D2": "carrier",  # Driver Not Available
    "F1": "customs",  # Non-Express Clearance Delay
    "F2": "customs",  # International Non-carrier Delay
}

LOCAL_TIME = "local"

# Element 623. Zones that observe daylight saving time are IANA zones; the
# "standard" and "daylight" codes are fixed offsets, which IANA spells with
# the sign inverted (Etc/GMT+6 is six hours behind UTC).
TIME_CODE_ZONE = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "ES": "Etc/GMT+5",
    "ED": "Etc/GMT+4",
    "CS": "Etc/GMT+6",
    "CD": "Etc/GMT+5",
    "MS": "Etc/GMT+7",
    "MD": "Etc/GMT+6",
    "PS": "Etc/GMT+8",
    "PD": "Etc/GMT+7",
    "UT": "UTC",
    "GM": "UTC",
    "LT": LOCAL_TIME,
    # 01-12 are ISO P01-P12 (ahead of UTC), 13-24 are M12-M01 (behind).
    **{f"{hours:02d}": f"Etc/GMT-{hours}" for hours in range(1, 13)},
    **{f"{25 - hours:02d}": f"Etc/GMT+{hours}" for hours in range(1, 13)},
}

# Element 355 to the hub's unit codes.
UNIT = {
    "EA": "EA",  # Each
    "PC": "EA",  # Piece
    "UN": "EA",  # Unit
    "CA": "CS",  # Case
    "CS": "CS",  # Case
    "CT": "CT",  # Carton
    "BX": "BX",  # Box
    "PK": "PK",  # Package
    "PL": "PL",  # Pallet/Unit Load
    "PLT": "PL",  # Pallet, as some senders spell it
    "DZ": "DZ",  # Dozen
    "PR": "PR",  # Pair
    "ST": "ST",  # Set
    "RL": "RL",  # Roll
    "BG": "BG",  # Bag
    "DR": "DR",  # Drum
    "LB": "LB",  # Pound
    "KG": "KG",  # Kilogram
    "GR": "G",  # Gram
    "OZ": "OZ",  # Ounce - Av
    "GA": "GAL",  # Gallon
    "LT": "L",  # Liter
    "FT": "FT",  # Foot
    "MR": "M",  # Meter
}

# Kilograms per weight unit: element 355 (TD108) and element 188 (W1212).
KILOGRAMS_PER = {
    "KG": Decimal(1),
    "K": Decimal(1),
    "LB": Decimal("0.45359237"),
    "L": Decimal("0.45359237"),
}

# Element 143, for readable reasons when a set is not accepted yet.
TRANSACTION_SET_NAMES = {
    "110": "Air Freight Details and Invoice",
    "204": "Motor Carrier Load Tender",
    "210": "Motor Carrier Freight Details and Invoice",
    "211": "Motor Carrier Bill of Lading",
    "214": "Transportation Carrier Shipment Status Message",
    "300": "Reservation (Booking Request) (Ocean)",
    "301": "Confirmation (Ocean)",
    "310": "Freight Receipt and Invoice (Ocean)",
    "315": "Status Details (Ocean)",
    "322": "Terminal Operations and Intermodal Ramp Activity",
    "404": "Rail Carrier Shipment Information",
    "753": "Request for Routing Instructions",
    "754": "Routing Instructions",
    "810": "Invoice",
    "820": "Payment Order/Remittance Advice",
    "824": "Application Advice",
    "830": "Planning Schedule with Release Capability",
    "846": "Inventory Inquiry/Advice",
    "850": "Purchase Order",
    "855": "Purchase Order Acknowledgment",
    "856": "Ship Notice/Manifest",
    "860": "Purchase Order Change Request - Buyer Initiated",
    "862": "Shipping Schedule",
    "940": "Warehouse Shipping Order",
    "943": "Warehouse Stock Transfer Shipment Advice",
    "944": "Warehouse Stock Transfer Receipt Advice",
    "945": "Warehouse Shipping Advice",
    "947": "Warehouse Inventory Adjustment Advice",
    "990": "Response to a Load Tender",
    "997": "Functional Acknowledgment",
    "999": "Implementation Acknowledgment",
}

# Element 558 (B104 of a 990): what the carrier did with a load tender. Only
# an acceptance assigns the carrier; a conditional acceptance or a counter
# proposal is not an acceptance of the tender as sent.
TENDER_RESPONSE = {
    "A": "accepted",  # Reservation Accepted
    "B": "conditional",  # Conditional Acceptance
    "C": "countered",  # Counter Proposal Made
    "D": "declined",  # Reservation Cancelled
    "E": "declined",  # Reservation Declined
}

# Element 673 (QTY01 of an 846), in order of preference for the quantity the
# hub shows as available: available for sale, else on hand.
AVAILABLE_QUANTITY = ("33", "17")

# Element 128 (N9/REF qualifiers) the hub reads from warehouse and freight
# documents.
BILL_OF_LADING = "BM"
CARRIER_REFERENCE = "CN"
SHIPPER_REFERENCE = "SI"
RETURN_AUTHORIZATION = "RZ"

# Element 374 (G62 date qualifiers) on a 940: requested ship date first,
# then the delivery date the depositor asked for.
REQUESTED_DATE_QUALIFIERS = ("10", "02")

# Category name (integrations.models.CodeMapping.Category) to default table,
# for seeding the code mappings of an X12 connection.
DEFAULT_TABLES: dict[str, dict[str, str]] = {
    "shipment_status": SHIPMENT_STATUS,
    "exception_reason": EXCEPTION_REASON,
    "unit": UNIT,
}
