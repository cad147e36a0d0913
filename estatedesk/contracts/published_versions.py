"""The record of published message versions: the committed AsyncAPI document.

A published (event type, schema version) is a promise to every reader. The payload models
forbid unknown fields, so even an added optional field makes a reader that has not upgraded
refuse the message: any change to the shape of a recorded schema needs a new
`schema_version` instead. Descriptions and titles may change freely; they only document.
A version the code no longer writes stays in the record, deprecated, because replays and
old partitions still carry it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .asyncapi import MessageSet, document, messages_of

RECORD = Path(__file__).with_name("asyncapi.json")
ANNOTATIONS = frozenset({"title", "description", "summary", "examples", "deprecated"})
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
"""Keywords whose keys are names chosen by the schema (a property may be called `title`)."""


class ChangedWithoutNewVersion(ValueError):
    """A recorded message version would change shape; its sentences name each event."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def shape(schema: Any) -> Any:
    """`schema` without the keywords that only document it."""
    if isinstance(schema, list):
        return [shape(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {key: {name: shape(s) for name, s in value.items()} if key in SCHEMA_MAPS else shape(value)
            for key, value in schema.items() if key not in ANNOTATIONS}


def _version(message: dict[str, Any]) -> str:
    return f"{message['name']} schema version {message['payload']['properties']['schema_version']['const']}"


def changed_versions(recorded: dict[str, Any], generated: dict[str, Any]) -> list[str]:
    """One sentence per recorded (event type, schema version) the code now describes differently."""
    before = recorded["components"]["messages"]
    return [f"{_version(message)} differs from the published one: "
            f"bump schema_version of {message['name']} (and add an upcaster) instead of changing it"
            for key, message in sorted(generated["components"]["messages"].items())
            if key in before and shape(before[key]["payload"]) != shape(message["payload"])]


def _deprecated(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "payload": {**message["payload"], "deprecated": True}}


def updated(recorded: dict[str, Any] | None, generated: dict[str, Any]) -> dict[str, Any]:
    """The record after `generated`: its messages, plus every version recorded before that it
    no longer lists (deprecated). Raises ChangedWithoutNewVersion instead of rewriting one."""
    if recorded is None:
        return generated
    if problems := changed_versions(recorded, generated):
        raise ChangedWithoutNewVersion(problems)
    merged: MessageSet = {topic: dict(found) for topic, found in messages_of(generated).items()}
    for topic, found in messages_of(recorded).items():
        for key, message in found.items():
            if all(key not in listed for listed in merged.values()):
                merged.setdefault(topic, {})[key] = _deprecated(message)
    return document(merged)


def record_problems(recorded: dict[str, Any], generated: dict[str, Any]) -> list[str]:
    """What keeps `recorded` from being the record of `generated`; [] when it is."""
    if problems := changed_versions(recorded, generated):
        return problems
    before = recorded["components"]["messages"]
    missing = [f"{_version(message)} is not recorded"
               for key, message in sorted(generated["components"]["messages"].items()) if key not in before]
    if missing or updated(recorded, generated) != recorded:
        return [*missing, f"{RECORD.name} is out of date: run `estatedesk asyncapi --write`"]
    return []


def load(path: Path = RECORD) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def dumps(asyncapi: dict[str, Any]) -> str:
    return json.dumps(asyncapi, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
