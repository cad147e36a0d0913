"""Who writes and who reads each topic: the one table the services subscribe and publish
from, that `deploy/topics.yaml` states and the AsyncAPI document describes."""
from __future__ import annotations

from .events import BILLING_EVENTS, CASE_EVENTS, DISPATCH_EVENTS, EVENT_TYPES, SLA_EVENTS, TOPICS, topic_of

PRODUCER: dict[str, str] = {
    CASE_EVENTS: "intake",
    DISPATCH_EVENTS: "dispatch",
    SLA_EVENTS: "sla",
    BILLING_EVENTS: "intake",
}
CONSUMERS: dict[str, tuple[str, ...]] = {
    CASE_EVENTS: ("dispatch", "sla", "analytics", "group_register"),
    DISPATCH_EVENTS: ("sla", "analytics", "console"),
    SLA_EVENTS: ("analytics", "console"),
    BILLING_EVENTS: ("analytics", "billing"),
}
EXTERNAL_CONSUMERS: dict[str, str] = {
    "billing": "the group's billing system",
    "group_register": "the group customer-service centre's complaint register, for `GroupComplaintResultReported`",
}
"""Readers outside this code base: they have only the contract to go by."""


def produced_by(service: str) -> tuple[str, ...]:
    """The topics whose outbox `service` relays, in contract order."""
    return tuple(topic for topic in TOPICS if PRODUCER[topic] == service)


def consumed_by(service: str) -> tuple[str, ...]:
    """The topics `service`'s consumer group subscribes to, in contract order."""
    return tuple(topic for topic in TOPICS if service in CONSUMERS[topic])


def notified_event_types(service: str) -> tuple[str, ...]:
    """The event types `service` hears of from the broker. A case's stream holds others too
    (another service's clocks, say); those it has not applied are no lag and nothing lost."""
    topics = consumed_by(service)
    return tuple(sorted(name for name in EVENT_TYPES if topic_of(name) in topics))
