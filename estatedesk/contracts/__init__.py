from .envelope import Envelope, derived_event_id
from .events import (
    BILLING_EVENTS, CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS, TOPICS,
    EVENT_TYPES, Payload, decode, encode, topic_of,
)

__all__ = [
    "Envelope", "derived_event_id", "BILLING_EVENTS", "CASE_EVENTS", "DISPATCH_EVENTS",
    "SLA_EVENTS", "TOPICS", "EVENT_TYPES", "Payload", "decode", "encode", "topic_of",
]
