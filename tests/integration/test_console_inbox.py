"""The console's inbox: one notification per event and recipient, however often the message comes."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import httpx

from estatedesk.contracts import Envelope
from services.console.api_client import Api
from services.console.inbox import store
from services.console.inbox.consumer import Notifier

from ..conftest import token_for


def escalation(case_id: str) -> Envelope:
    now = datetime.now(timezone.utc)
    return Envelope(event_id=uuid.uuid4(), event_type="EscalationRaised", case_id=case_id, estate_id="E001",
                    occurred_at=now, recorded_at=now, producer="sla", correlation_id=case_id,
                    payload={"level": 2, "to_role": "estate_manager", "reason": "complaint open after 24 h",
                             "raised_at": now.isoformat(), "rule": "complaint_completed"})


async def test_a_redelivered_escalation_notifies_each_holder_once(stack, pool):
    async with httpx.AsyncClient(timeout=10) as client:
        api = Api(client, stack.url("intake"), stack.url("analytics"))
        admin = token_for(stack, role="group_admin", estates=(), user="console-test")["Authorization"][7:]

        async def staff_of(estate_id: str) -> dict:
            answer = await api.estate(admin, estate_id)
            return answer.get("staff") or {}

        notifier = Notifier(lambda: pool, staff_of)
        event = escalation(f"C-INBOX{uuid.uuid4().hex[:8].upper()}")
        first = await notifier.handle(event)
        again = await notifier.handle(event)  # Kafka delivers at least once
    assert (first, again) == (1, 0)  # e001-manager-wei: in the staff list and an account, notified once
    rows = [r for r in await store.inbox(pool, "e001-manager-wei") if r["case_id"] == event.case_id]
    assert len(rows) == 1 and rows[0]["summary"]["level"] == 2
