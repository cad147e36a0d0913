"""Erasing a resident's personal data on request (PIPL art. 47) without breaking the history.

Names and phones never entered the event payloads (only a masked phone and the household
id travel), so erasure clears the contact table and records that it happened.
"""
from __future__ import annotations

import uuid

from estatedesk.clock import Clock
from estatedesk.contracts import Envelope, encode
from estatedesk.contracts.events import PersonalDataErased
from estatedesk.eventstore import EventStore

from .estates import estate_stream


async def erase_household(store: EventStore, pool, estate_id: str, household_id: str, *, actor: str,
                          clock: Clock) -> int:
    """Erase the household's contact details on every case of the estate; returns how many cases."""
    now = clock()
    async with pool.acquire() as conn, conn.transaction():
        erased = await conn.fetchval(
            "WITH hit AS (UPDATE reporter_contacts c SET name = NULL, phone = NULL, erased_at = $3"
            " FROM events e WHERE e.stream_id = c.case_id AND e.version = 1 AND e.estate_id = $1"
            " AND c.household_id = $2 AND c.erased_at IS NULL RETURNING c.case_id) SELECT count(*) FROM hit",
            estate_id, household_id, now)
        stream = estate_stream(estate_id)
        version = await conn.fetchval("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream)
        await store.append(stream, version, [Envelope(
            event_id=uuid.uuid4(), event_type="PersonalDataErased", case_id=stream, estate_id=estate_id,
            stream_version=version + 1, occurred_at=now, recorded_at=now, producer="intake",
            correlation_id=f"erasure-{household_id}",
            payload=encode(PersonalDataErased(household_id=household_id, cases=erased, requested_by=actor)))],
            conn=conn)
    return erased
