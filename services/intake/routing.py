"""The intake follows dispatch: each decision is recorded in the case stream as CaseRouted,
which is what moves a case to `dispatched` (and back after a transfer or rejection)."""
from __future__ import annotations

from estatedesk.eventstore import ConcurrencyConflict
from estatedesk.eventstore.tracking import lock_case, unapplied_events

from .handlers import RETRIES_ON_CONFLICT, Intake

CONSUMER = "intake.routing"
DECISIONS = frozenset({"CaseDispatched", "DispatchFailed"})


async def catch_up_routing(intake: Intake, case_id: str) -> int:
    """Record the case's dispatch decisions not yet recorded; returns how many were."""
    for attempt in range(RETRIES_ON_CONFLICT):
        try:
            recorded = 0
            async with intake.pool.acquire() as conn, conn.transaction():
                await lock_case(conn, CONSUMER, case_id)
                for event in await unapplied_events(conn, CONSUMER, case_id):
                    if event.event_type in DECISIONS:
                        recorded += await intake.record_routing(conn, case_id, event)
            return recorded
        except ConcurrencyConflict:  # a person's command won the race; read the case again
            if attempt == RETRIES_ON_CONFLICT - 1:
                raise
    return 0
