"""Estate policy as versioned events: each PUT records a new EstatePolicySet in the estate stream."""
from __future__ import annotations

from typing import Any

from estatedesk.clock import Clock
from estatedesk.contracts import Envelope
from estatedesk.contracts.events import EstatePolicySet
from estatedesk.eventstore import EventStore
from services.dispatch.domain import RuleTableError, parse_rule_table
from services.sla.domain.sla_policy import validate_block

from .domain.errors import InvalidCommand
from .estates import record_on_estate


def validate_policy(body: dict[str, Any], version: int) -> None:
    """Refuse a policy that a service could not apply, naming every bad field."""
    errors: list[tuple[str, str]] = []
    if body.get("dispatch") is not None:
        try:
            parse_rule_table({**body["dispatch"], "version": version})
        except RuleTableError as exc:
            errors += [(f"dispatch.{path}".rstrip("."), message) for path, message in exc.errors]
    if body.get("sla") is not None:
        errors += [(f"sla.{path}".rstrip("."), message) for path, message in validate_block(body["sla"])]
    if errors:
        raise InvalidCommand(errors)


POLICY_BLOCKS = ("dispatch", "sla", "warranty", "complaints", "feedback")


def carried_over(previous: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The new version: the blocks the request carries replace the earlier version's, the
    others stay as they were (a PUT of the SLA block alone keeps the dispatch rules)."""
    return {name: body[name] if name in body else previous.get(name) for name in POLICY_BLOCKS}


def policy_history(estate_id: str, events: list[Envelope]) -> dict[str, Any]:
    """The policy in force and every earlier version, newest last."""
    versions = [e.payload for e in events if e.event_type == "EstatePolicySet"]
    current = versions[-1] if versions else {}
    return {"estate_id": estate_id, "version": current.get("version", 0),
            "effective_from": current.get("effective_from"), "set_by": current.get("set_by"),
            "policy": {name: current.get(name) for name in POLICY_BLOCKS},
            "versions": [{"version": v["version"], "effective_from": v["effective_from"], "set_by": v["set_by"],
                          "blocks": [name for name in POLICY_BLOCKS if v.get(name) is not None]} for v in versions]}


async def set_policy(store: EventStore, estate_id: str, body: dict[str, Any], *, actor: str, clock: Clock) -> int:
    """Record the next policy version of the estate; returns that version."""
    now = clock()

    def next_version(events: list[Envelope]) -> EstatePolicySet:
        if not any(e.event_type == "EstateConfigured" for e in events):
            raise InvalidCommand([("estate_id", f"unknown estate {estate_id}; set it up first")])
        version = 1 + sum(e.event_type == "EstatePolicySet" for e in events)
        earlier = [e.payload for e in events if e.event_type == "EstatePolicySet"]
        blocks = carried_over(earlier[-1] if earlier else {}, body)
        validate_policy(blocks, version)
        return EstatePolicySet(version=version, effective_from=now, set_by=actor, **blocks)

    recorded = await record_on_estate(store, estate_id, next_version, now, f"policy-{estate_id}")
    return recorded.version
