"""Turning consumed SLA and dispatch messages into inbox rows."""
from __future__ import annotations

import time

import asyncpg

from estatedesk.contracts import Envelope

from ..auth.accounts import holders
from . import recipients as who
from . import store

CONSUMER = "console.notifications"
STAFF_TTL_S = 30.0


class Notifier:
    """Holds the estates' staff lists briefly (they come from intake's set-up API)."""

    def __init__(self, pool_of, staff_of):
        self._pool_of, self._staff_of = pool_of, staff_of
        self._staff: dict[str, tuple[float, dict]] = {}

    async def _staff_list(self, estate_id: str | None) -> dict[str, list[str]]:
        if not estate_id:
            return {}
        cached = self._staff.get(estate_id)
        if cached and time.monotonic() - cached[0] < STAFF_TTL_S:
            return cached[1]
        staff = await self._staff_of(estate_id)
        self._staff[estate_id] = (time.monotonic(), staff)
        return staff

    async def handle(self, envelope: Envelope) -> int:
        if envelope.event_type not in who.NOTIFYING:
            return 0
        pool: asyncpg.Pool = self._pool_of()
        payload = dict(envelope.payload or {})
        role = who.role_of(envelope.event_type, payload)
        role_holders = [a["user_id"] for a in await holders(pool, role, envelope.estate_id)] if role else []
        staff = await self._staff_list(envelope.estate_id) if role else {}
        people = who.recipients(envelope.event_type, payload, staff, role_holders)
        return await store.notify(pool, event_id=envelope.event_id, event_type=envelope.event_type,
                                  case_id=envelope.case_id, estate_id=envelope.estate_id, recipients=people,
                                  summary=who.summary(envelope.event_type, payload))
