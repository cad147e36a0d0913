"""Routing decisions. Pure: rules are data, the case is a CaseReceived payload, time is passed in."""
