"""Turning case events into dispatch decisions, exactly once per cause.

The decision, the new working state and the decision's event (stored, with its outbox row)
commit together; a redelivered cause finds itself in the state and changes nothing.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

from estatedesk.streams import estate_stream
from estatedesk.contracts import Envelope, derived_event_id
from estatedesk.eventstore import EventStore, record
from estatedesk.eventstore.tracking import lock_case, unapplied_events

from . import state_store
from .domain import (
    CaseArrived, CaseBounced, CaseFacts, EstateDirectory, RuleTable, decide, parse_rule_table, release_case,
)
from .domain.decision import DispatchDecision

CONSUMER = "dispatch"
BOUNCES = frozenset({"CaseRejected", "CaseTransferred"})
RELEASES = frozenset({"WorkCompleted", "CaseCancelled", "CaseMerged", "CaseArchived"})


def decision_envelope(decision: DispatchDecision, cause: Envelope, now: datetime) -> Envelope:
    return Envelope(
        event_id=derived_event_id("dispatch", cause.event_id), event_type=decision.event_type,
        case_id=cause.case_id, estate_id=cause.estate_id, occurred_at=now, recorded_at=now,
        producer="dispatch", correlation_id=cause.correlation_id, causation_id=str(cause.event_id),
        payload=decision.to_payload_dict(),
    )


def _cause(envelope: Envelope) -> CaseArrived | CaseBounced | None:
    p = envelope.payload
    if envelope.event_type == "CaseReceived":
        return CaseArrived(str(envelope.event_id), CaseFacts.from_case_received(envelope.case_id, envelope.estate_id, p))
    if envelope.event_type in BOUNCES:
        return CaseBounced(str(envelope.event_id), envelope.case_id, department=p.get("department") or "",
                           transfer_to=p.get("to_department"))
    return None


async def _estate_and_rules(store: EventStore, conn: asyncpg.Connection, estate_id: str
                            ) -> tuple[EstateDirectory, RuleTable | None]:
    """The estate's people and its own rule table in force now (None: defaults only)."""
    configured = await store.latest(estate_stream(estate_id), "EstateConfigured", conn=conn)
    policy = await store.latest(estate_stream(estate_id), "EstatePolicySet", conn=conn)
    estate = EstateDirectory.from_configured(estate_id, configured.payload if configured else {})
    block = policy.payload.get("dispatch") if policy else None
    rules = parse_rule_table({**block, "version": policy.payload["version"]}) if block else None
    return estate, rules


async def on_case(pool: asyncpg.Pool, store: EventStore, case_id: str, now: datetime) -> int:
    """Apply the case's events dispatch has not seen; returns the number of new decisions."""
    decided = 0
    async with pool.acquire() as conn, conn.transaction():
        await lock_case(conn, CONSUMER, case_id)
        events = [e for e in await unapplied_events(conn, CONSUMER, case_id)
                  if e.stream_version is not None and (_cause(e) or e.event_type in RELEASES)]
        if not events:
            return 0
        estate_id = events[0].estate_id
        await state_store.lock_estate(conn, estate_id)
        state = await state_store.load(conn, estate_id, case_id)
        estate, rules = await _estate_and_rules(store, conn, estate_id)
        for event in events:
            cause = _cause(event)
            if cause is None:
                state = release_case(state, case_id, str(event.event_id))
                continue
            routed = decide(cause, estate=estate, estate_rules=rules, state=state, now=now)
            if routed.redelivered:
                continue
            state = routed.state
            await record(conn, f"{case_id}/dispatch", [decision_envelope(routed.decision, event, now)])
            decided += 1
        await state_store.save(conn, estate_id, case_id, state)
    return decided
