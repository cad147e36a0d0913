"""The AsyncAPI 3 document of the event contract, generated from the contract models.

One channel per topic, one message per (event type, schema version), one operation per
writer and per reader of a topic (`topology.py`). A message's payload is the whole envelope,
its `payload` property the event's own schema. Each message carries its nested schemas in
its own `$defs`, referenced by absolute pointers: a recorded version never shares a
definition that a later version of another event could change under it.
"""
from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Any

from .envelope import Envelope
from .events import CURRENT_VERSION, EVENT_TYPES, TOPICS, Payload, topic_of
from .topology import CONSUMERS, EXTERNAL_CONSUMERS, PRODUCER

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
MessageSet = dict[str, dict[str, dict[str, Any]]]
"""topic -> message id -> message object."""

DESCRIPTION = """\
Every message EstateDesk publishes to Kafka, for the teams that read them: the group's
billing system (billing-events is the only topic it needs), the group customer-service
centre's complaint register (`GroupComplaintResultReported` on case-events: the final result
of each complaint the group transferred in, when it closes) and the operations dashboards.

Each message is one JSON envelope (UTF-8), keyed by `case_id`, so one case's events stay in
one partition and in order. Delivery is at least once: drop a repeated `event_id`.
Amounts are integer fen. {store_only} stay in the event store and are not published.

Versions: a message is named `<event_type>.v<schema_version>`. A change a reader would
notice is a new `schema_version` of that event, never an edit of a published one; earlier
versions stay listed, marked deprecated, because replays and old partitions still hold them.
"""
TOPIC_DESCRIPTIONS = {
    "case-events": "Every event of a case's own stream, in stream order (`stream_version` counts from 1).",
    "dispatch-events": "Dispatch's decisions: the departments, coordinator and assignee of a case, "
                       "or why nobody could be found.",
    "sla-events": "The deadline clocks of each case (started, paused, resumed, warned, met, breached), "
                  "escalations, and departments that missed their 17:00 daily feedback.",
    "billing-events": "Bills of paid work at its completion, once per completion, priced from the estate's "
                      "fee schedule and naming the household and location ids (never a resident's name or "
                      "phone); reopening or cancelling billed work voids its bill (`ChargeVoided`), and the "
                      "next completion bills afresh. Bills written before voids existed may supersede an "
                      "earlier one (`supersedes_event_id`).",
}
MESSAGE_KEY = {
    "type": "string",
    "description": "The envelope's `case_id`, UTF-8: one case's events share a partition and keep their order",
}


def message_id(event_type: str, schema_version: int) -> str:
    return f"{event_type}.v{schema_version}"


def message(model: type[Payload], schema_version: int, topic: str) -> dict[str, Any]:
    """`model` at `schema_version`, as it travels on `topic`, as an AsyncAPI message object."""
    event_type = model.event_type()
    key = message_id(event_type, schema_version)
    event = model.model_json_schema(ref_template=f"#/components/messages/{key}/payload/$defs/{{model}}")
    definitions = event.pop("$defs", {})
    envelope = Envelope.model_json_schema()
    properties = envelope["properties"]
    properties["event_type"] = {**properties["event_type"], "const": event_type}
    properties["schema_version"] = {**properties["schema_version"], "const": schema_version}
    properties["producer"] = {**properties["producer"], "const": PRODUCER[topic]}
    properties["payload"] = event
    # The wire always carries every envelope field (nulls included): a reader may rely on
    # each, and must not take a missing schema_version for this one.
    envelope["required"] = list(properties)
    envelope["title"] = key
    if definitions:
        envelope["$defs"] = definitions
    found = {
        "name": event_type,
        "title": f"{event_type}, schema version {schema_version}",
        "contentType": "application/json",
        "payload": envelope,
        "bindings": {"kafka": {"key": MESSAGE_KEY, "bindingVersion": KAFKA_BINDING_VERSION}},
    }
    if "description" in event:
        found["summary"] = event["description"]
    return found


def current_messages() -> MessageSet:
    """Every event type that travels on a topic, at its current schema version."""
    messages: MessageSet = {topic: {} for topic in TOPICS}
    for event_type in sorted(EVENT_TYPES):
        if topic := topic_of(event_type):
            schema_version = CURRENT_VERSION[event_type]
            messages[topic][message_id(event_type, schema_version)] = message(
                EVENT_TYPES[event_type], schema_version, topic)
    return messages


def _refs(topic: str, ids: list[str]) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{topic}/messages/{key}"} for key in ids]


def _operations(topic: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    channel = {"$ref": f"#/channels/{topic}"}
    operations = {f"{PRODUCER[topic]}-sends-{topic}": {
        "action": "send", "channel": channel, "messages": _refs(topic, ids),
        "summary": f"{PRODUCER[topic]} publishes {topic} from its outbox, in store order per case"}}
    for reader in CONSUMERS[topic]:
        who = EXTERNAL_CONSUMERS.get(reader, f"the {reader} service's consumer group")
        operations[f"{reader}-receives-{topic}"] = {
            "action": "receive", "channel": channel, "messages": _refs(topic, ids), "summary": f"Read by {who}"}
    return operations


def document(messages: MessageSet) -> dict[str, Any]:
    """The AsyncAPI document of these messages, each listed on its topic's channel."""
    channels, operations, components = {}, {}, {}
    for topic in TOPICS:
        ids = sorted(messages.get(topic, {}))
        channels[topic] = {
            "address": topic,
            "description": TOPIC_DESCRIPTIONS[topic],
            "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in ids},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        operations.update(_operations(topic, ids))
        components.update(messages.get(topic, {}))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "EstateDesk events", "version": package_version("estatedesk"),
                 "description": DESCRIPTION.format(store_only=", ".join(
                     f"`{name}`" for name in sorted(EVENT_TYPES) if not topic_of(name)))},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": dict(sorted(components.items()))},
    }


def messages_of(asyncapi: dict[str, Any]) -> MessageSet:
    """The messages a document lists, by the topic whose channel lists them."""
    listed = asyncapi["components"]["messages"]
    return {channel["address"]: {key: listed[key] for key in channel["messages"]}
            for channel in asyncapi["channels"].values()}


def generate() -> dict[str, Any]:
    return document(current_messages())
