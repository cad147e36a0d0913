"""Stream names of the event store, in one place."""
from __future__ import annotations

ESTATE_PREFIX = "estate-"
GROUP_PREFIX = "group-"
GROUP_ESTATE = "*"
"""The estate_id of a group-level event: never an estate id (see `estatedesk.auth`)."""
NOT_CASE_PREFIXES = (ESTATE_PREFIX, GROUP_PREFIX)
"""Streams under these prefixes hold set-up, never a case."""


def estate_stream(estate_id: str) -> str:
    """An estate's set-up and policy versions."""
    return f"{ESTATE_PREFIX}{estate_id}"


def feedback_stream(estate_id: str) -> str:
    """An estate's daily-feedback settlements."""
    return f"{estate_stream(estate_id)}/feedback"


def calendar_stream() -> str:
    """The group's official working calendar: every year's loaded tables."""
    return f"{GROUP_PREFIX}calendar"
