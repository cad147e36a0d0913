"""The wire envelope of SPEC §4: one JSON object per Kafka message and per stored event."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

# Deterministic ids of derived events come from this namespace, so a redelivered cause
# always yields the same effect id and every consumer can drop the duplicate.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2a52-4a7e-4d0e-9a57-2f4d7f0b9e11")


def derived_event_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, "/".join(str(p) for p in parts))


def utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a timezone")
    return value.astimezone(timezone.utc)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(description="Unique per event; a redelivered message repeats it, so drop duplicates by it")
    event_type: str = Field(description="Past-tense name of what happened; never renamed")
    schema_version: int = Field(1, description="Version of the payload's schema for this event type")
    case_id: str = Field(description="The case (or `estate-<id>` for an estate's own events); the message key")
    estate_id: str
    stream_version: int | None = Field(
        None, description="case-events: position in the case's stream, from 1; other topics: null")
    occurred_at: datetime = Field(description="When it happened in the business, RFC 3339 UTC")
    recorded_at: datetime = Field(description="When the producer stored it, RFC 3339 UTC")
    producer: str = Field(description="The service that wrote it")
    correlation_id: str = Field(description="Shared by every event that one request set off")
    causation_id: str | None = Field(None, description="event_id of the event this one reacts to")
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at", "recorded_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return utc(value)

    @field_serializer("occurred_at", "recorded_at")
    def _rfc3339(self, value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Envelope":
        return cls.model_validate(json.loads(raw))
