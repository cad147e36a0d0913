"""The event catalogue: envelope and every payload as JSON Schema, with the topic each travels on."""
from __future__ import annotations

from typing import Any

from .envelope import Envelope
from .events import CURRENT_VERSION, EVENT_TYPES, topic_of


def catalogue() -> dict[str, Any]:
    return {
        "title": "EstateDesk event catalogue",
        "envelope": Envelope.model_json_schema(),
        "events": {
            name: {
                "topic": topic_of(name) or None,
                "schema_version": CURRENT_VERSION[name],
                "payload": cls.model_json_schema(),
            }
            for name, cls in sorted(EVENT_TYPES.items())
        },
    }
