"""Stream names of the event store, in one place."""
from __future__ import annotations

ESTATE_PREFIX = "estate-"


def estate_stream(estate_id: str) -> str:
    """An estate's set-up and policy versions."""
    return f"{ESTATE_PREFIX}{estate_id}"


def feedback_stream(estate_id: str) -> str:
    """An estate's daily-feedback settlements."""
    return f"{estate_stream(estate_id)}/feedback"
