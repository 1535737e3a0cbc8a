"""Connector for EDIFACT files: IFTSTA status reports and DESADV despatch advice."""
