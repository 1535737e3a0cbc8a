"""Connector for X12 files from the file drop: 214 status, 856 and 945 advices."""
