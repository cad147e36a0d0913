"""Applying one consumed message safely: a poison message is set aside, an outage is waited out.

Kafka delivers at least once and a partition is processed in order, so one message that
can never be applied (malformed JSON, a payload that breaks its schema, a bug) must not
stall every case behind it: it goes to `dead_letters` and the consumer moves on. An
unavailable database, on the other hand, is retried until it comes back; skipping then
would lose the event.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Awaitable, Callable

import asyncpg
from pydantic import ValidationError

from estatedesk.contracts import EVENT_TYPES, Envelope, decode
from estatedesk.eventstore import ConcurrencyConflict
from estatedesk.eventstore.outage import DATABASE_AWAY
from estatedesk.web.logs import about

log = logging.getLogger(__name__)

TRANSIENT = (*DATABASE_AWAY, asyncpg.SerializationError, asyncpg.DeadlockDetectedError, ConcurrencyConflict)


async def apply_message(raw: bytes, handler: Callable[[Envelope], Awaitable[None]], *,
                        consumer: str, pool: asyncpg.Pool, retry_s: float = 1.0) -> bool:
    """Run `handler` on the decoded message; False if it was dead-lettered instead."""
    try:
        envelope = Envelope.from_bytes(raw)
        if envelope.event_type in EVENT_TYPES:  # types this build does not know pass through
            decode(envelope)
    except (ValidationError, ValueError, KeyError) as exc:
        await _dead_letter(pool, consumer, raw, None, f"undecodable: {exc}")
        return False
    context = {"event_id": envelope.event_id, "case_id": envelope.case_id,
               "correlation_id": envelope.correlation_id}
    while True:
        try:
            with about(**context):
                await handler(envelope)
            return True
        except TRANSIENT as exc:
            log.warning("%s: database unavailable (%s); retrying %s", consumer, exc, envelope.event_id,
                        extra=context)
            await asyncio.sleep(retry_s)
        except Exception as exc:  # anything else will fail again on every redelivery
            log.exception("%s: cannot apply %s %s", consumer, envelope.event_type, envelope.event_id,
                          extra=context)
            await _dead_letter(pool, consumer, raw, envelope, repr(exc))
            return False


async def _dead_letter(pool: asyncpg.Pool, consumer: str, raw: bytes, envelope: Envelope | None, error: str) -> None:
    event_id = event_type = case_id = None
    if envelope is not None:
        event_id, event_type, case_id = str(envelope.event_id), envelope.event_type, envelope.case_id
    else:
        try:
            parsed = json.loads(raw)
            event_id, event_type = str(parsed.get("event_id")), str(parsed.get("event_type"))
            case_id = parsed.get("case_id")
        except (ValueError, AttributeError):
            pass
    while True:
        try:
            async with pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO dead_letters (consumer, event_id, event_type, error, message) VALUES ($1, $2, $3, $4, $5)",
                    consumer, event_id, event_type, error[:2000], raw,
                )
            log.error("%s: dead-lettered %s %s: %s", consumer, event_type, event_id, error[:200],
                      extra={"event_id": event_id, "case_id": case_id})
            return
        except TRANSIENT:
            await asyncio.sleep(1.0)
