"""Use cases of the command side: load → decide (pure domain) → append with outbox, one transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from estatedesk.auth import Principal
from estatedesk.clock import Clock
from estatedesk.contracts import Envelope, encode
from estatedesk.eventstore import EventStore

from . import idempotency
from .domain.errors import InvalidCommand
from .domain.reception import NewCase, receive
from .estates import load_estate


class _AnsweredBefore(Exception):
    """A concurrent request with the same Idempotency-Key committed first; undo ours."""

    def __init__(self, answer: tuple[int, dict]):
        self.answer = answer


@dataclass
class Intake:
    pool: asyncpg.Pool
    store: EventStore
    clock: Clock

    async def receive_case(self, body: dict[str, Any], principal: Principal,
                           idempotency_key: str | None) -> tuple[int, dict]:
        """Record a new case; (201, case) or the first answer to a repeated key."""
        key = f"POST /v1/cases:{principal.user}:{idempotency_key}" if idempotency_key else None
        body_hash = idempotency.request_hash(body)
        if key:
            async with self.pool.acquire() as conn:
                earlier = await idempotency.recall(conn, key, body_hash)
            if earlier:
                return earlier
        estate = await load_estate(self.store, body["estate_id"])
        if estate is None:
            raise InvalidCommand([("estate_id", f"unknown estate {body['estate_id']}")])
        now = self.clock()
        fact = receive(_new_case(body), estate, now)
        case_id = f"C-{uuid.uuid4().hex[:16].upper()}"
        envelope = Envelope(
            event_id=uuid.uuid4(), event_type="CaseReceived", case_id=case_id,
            estate_id=estate.estate_id, stream_version=1, occurred_at=fact.received_at,
            recorded_at=now, producer="intake", correlation_id=idempotency_key or case_id,
            payload=encode(fact),
        )
        response = {"case_id": case_id, "status": "received", "estate_id": estate.estate_id,
                    "type": fact.type, "priority": fact.priority,
                    "received_at": fact.received_at.isoformat()}
        reporter = body.get("reporter") or {}
        try:
            return 201, await self._record_new_case(case_id, envelope, reporter, response, key, body_hash)
        except _AnsweredBefore as twin:
            return twin.answer

    async def _record_new_case(self, case_id, envelope, reporter, response, key, body_hash) -> dict:
        async with self.pool.acquire() as conn, conn.transaction():
            response["position"] = await self.store.append(case_id, 0, [envelope], conn=conn)
            await conn.execute(
                "INSERT INTO reporter_contacts (case_id, name, phone, household_id) VALUES ($1, $2, $3, $4)",
                case_id, reporter.get("name"), reporter.get("phone"), reporter.get("household_id"),
            )
            if key:
                try:
                    async with conn.transaction():
                        await idempotency.remember(conn, key, body_hash, 201, response)
                except asyncpg.UniqueViolationError:  # a concurrent twin won: answer as it did
                    raise _AnsweredBefore(await idempotency.recall(conn, key, body_hash))
        return response


def _new_case(body: dict[str, Any]) -> NewCase:
    return NewCase(
        estate_id=body["estate_id"], type=body["type"], channel=body["channel"], title=body["title"],
        location=body["location"], reporter=body.get("reporter") or {}, category=body.get("category"),
        description=body.get("description") or "", received_at=body.get("received_at"),
        blocks={name: body.get(name) for name in ("repair", "complaint", "help", "violation")},
    )
