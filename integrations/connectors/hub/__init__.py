"""The CloudEvents JSON dialect of the ERP, WMS and TMS connections."""
