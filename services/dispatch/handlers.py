"""Turning case events into dispatch decisions, exactly once per cause.

The decision, the new working state and the outbox row that publishes the decision commit
together; a redelivered cause finds itself in the state and changes nothing.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

from estatedesk.contracts import Envelope, derived_event_id
from estatedesk.eventstore import EventStore, write_outbox

from . import state_store
from .domain import CaseArrived, CaseBounced, CaseFacts, EstateDirectory, decide, release_case
from .domain.decision import DispatchDecision

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


async def on_case_event(pool: asyncpg.Pool, store: EventStore, envelope: Envelope, now: datetime) -> bool:
    """Apply one case event; True if it produced a new decision."""
    cause = _cause(envelope)
    if cause is None and envelope.event_type not in RELEASES:
        return False
    async with pool.acquire() as conn, conn.transaction():
        await state_store.lock_estate(conn, envelope.estate_id)
        state = await state_store.load(conn, envelope.estate_id, envelope.case_id)
        if cause is None:
            released = release_case(state, envelope.case_id, str(envelope.event_id))
            await state_store.save(conn, envelope.estate_id, envelope.case_id, released)
            return False
        configured = await store.latest(f"estate-{envelope.estate_id}", "EstateConfigured", conn=conn)
        estate = EstateDirectory.from_configured(envelope.estate_id, configured.payload if configured else {})
        routed = decide(cause, estate=estate, estate_rules=None, state=state, now=now)
        if routed.redelivered:
            return False
        await state_store.save(conn, envelope.estate_id, envelope.case_id, routed.state)
        await write_outbox(conn, [decision_envelope(routed.decision, envelope, now)])
    return True
