"""Carrier connectors: one package per carrier, chosen by connection code.

See ``mapping`` for how a connection picks its carrier, ``scans`` for what
the carriers share, ``outbound`` for shipment requests, and ``codes`` for
the default code tables seeded into the admin-editable mappings.
"""
