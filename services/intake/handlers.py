"""Use cases of the command side: load → decide (pure domain) → append with outbox, one transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable

import asyncpg

from estatedesk.auth import Principal
from estatedesk.clock import Clock
from estatedesk.contracts import Envelope, Payload, encode
from estatedesk.contracts.events import CURRENT_VERSION
from estatedesk.eventstore import ConcurrencyConflict, EventStore

from estatedesk.lifecycle import (
    DEPARTMENT_BOUND, ROLES, CaseState, allowed_commands, charge_event_id, evolve, fold_stored, void_event_id,
)

from . import idempotency

from .domain.commands import PRICED, REFERS_TO, Actor, decide
from .domain.errors import InvalidCommand, NotPermitted
from .domain.filing import check_filing
from .domain.reception import NewCase, receive
from .estates import load_estate, load_policy
from .fee_schedule import load_fee_schedule
from .intake_rules import extra_facts_at_intake

RETRIES_ON_CONFLICT = 3


class CaseNotFound(Exception):
    pass


def envelopes_for(case_id: str, estate_id: str, after_version: int, payloads: list[Payload], now: datetime,
                  correlation_id: str, causation_id: str | None = None, occurred_at: datetime | None = None
                  ) -> list[Envelope]:
    out = []
    for offset, payload in enumerate(payloads, start=1):
        kind = type(payload).event_type()
        event_id = charge_event_id(case_id, payload.completion_number) if kind == "ChargeableWorkCompleted" \
            else void_event_id(payload.voided_event_id) if kind == "ChargeVoided" else uuid.uuid4()
        out.append(Envelope(event_id=event_id, event_type=kind, schema_version=CURRENT_VERSION[kind],
                            case_id=case_id, estate_id=estate_id,
                            stream_version=after_version + offset, occurred_at=occurred_at or now, recorded_at=now,
                            producer="intake", correlation_id=correlation_id, causation_id=causation_id,
                            payload=encode(payload)))
    return out


@dataclass
class Intake:
    pool: asyncpg.Pool
    store: EventStore
    clock: Clock

    async def _idempotent(self, key: str | None, body: Any,
                          write: Callable[[asyncpg.Connection], Awaitable[dict]], status: int,
                          authorise: Callable[[asyncpg.Connection], Awaitable[None]] | None = None
                          ) -> tuple[int, dict]:
        """Run `write` in a transaction; with a key, the first answer is the answer for ever,
        given only to a caller `authorise` lets through. Requests sharing a key are
        serialised on it, so a twin never decides a second time."""
        body_hash = idempotency.request_hash(body)
        async with self.pool.acquire() as conn, conn.transaction():
            if key:
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", key)

                async def check() -> None:
                    if authorise is not None:
                        await authorise(conn)
                earlier = await idempotency.recall(conn, key, body_hash, check)
                if earlier:
                    return earlier
            response = await write(conn)
            if key:
                await idempotency.remember(conn, key, body_hash, status, response)
        return status, response

    async def receive_case(self, body: dict[str, Any], principal: Principal,
                           idempotency_key: str | None) -> tuple[int, dict]:
        """Record a new case; (201, case) or the first answer to a repeated key. Who may file
        it is checked first, so a repeated key is answered only to a caller who may file it."""
        if not principal.may_act_on(body["estate_id"]):
            raise NotPermitted(f"your token does not cover estate {body['estate_id']}")
        check_filing(principal.role, principal.household, channel=body["channel"], type=body["type"],
                     origin=(body.get("complaint") or {}).get("origin"),
                     reporter_household=(body.get("reporter") or {}).get("household_id"))
        key = idempotency.scoped_key("POST /v1/cases", principal.user, idempotency_key) if idempotency_key else None

        async def write(conn: asyncpg.Connection) -> dict:
            # reads go through the transaction's connection: a second one per request
            # would exhaust the pool under load and deadlock
            estate = await load_estate(self.store, body["estate_id"], conn)
            if estate is None:
                raise InvalidCommand([("estate_id", f"unknown estate {body['estate_id']}")])
            now = self.clock()
            fact = receive(_new_case(body), estate, now).model_copy(
                update={"received_by": principal.user, "received_by_role": principal.role})
            policy = await load_policy(self.store, estate.estate_id, conn)
            case_id = f"C-{uuid.uuid4().hex[:16].upper()}"
            extra = await extra_facts_at_intake(conn, body, fact, estate, policy, now)
            envelopes = envelopes_for(case_id, estate.estate_id, 0, [fact, *extra], now,
                                      correlation_id=idempotency_key or case_id, occurred_at=fact.received_at)
            reporter = body.get("reporter") or {}
            # before the append: the store's append lock is then held only for the events
            await conn.execute(
                "INSERT INTO reporter_contacts (case_id, name, phone, household_id) VALUES ($1, $2, $3, $4)",
                case_id, reporter.get("name"), reporter.get("phone"), reporter.get("household_id"))
            position = await self.store.append(case_id, 0, envelopes, conn=conn)
            return {"case_id": case_id, "status": "received", "estate_id": estate.estate_id, "type": fact.type,
                    "priority": fact.priority, "received_at": fact.received_at.isoformat(), "position": position,
                    "events": [e.event_type for e in envelopes]}

        return await self._idempotent(key, body, write, 201)

    async def load_case(self, case_id: str, principal: Principal | None = None, *,
                        conn: asyncpg.Connection | None = None) -> CaseState:
        """The case folded from the store; CaseNotFound unless `principal` may see it (its
        estate, and for a resident their own household's case)."""
        events = await self.store.read_case(case_id, conn=conn)
        own = [e for e in events if e.stream_version is not None]
        if not own or own[0].event_type != "CaseReceived" or (
                principal is not None and not principal.may_act_on(own[0].estate_id)):
            raise CaseNotFound(case_id)
        state = fold_stored(case_id, own[0].estate_id, [
            (e.event_type, e.payload, str(e.event_id), e.stream_version is not None) for e in events])
        if principal is not None and not principal.may_see_case(state.estate_id, state.household_id):
            raise CaseNotFound(case_id)
        return state

    async def command(self, case_id: str, name: str, body: dict[str, Any], principal: Principal,
                      idempotency_key: str | None) -> tuple[int, dict]:
        """Run one lifecycle command; optimistic concurrency, retried on a concurrent change."""
        key = idempotency.scoped_key(f"POST /v1/cases/{case_id}/{name}", principal.user, idempotency_key) \
            if idempotency_key else None

        async def write(conn: asyncpg.Connection) -> dict:
            state = await self.load_case(case_id, principal, conn=conn)
            actor = await self._actor(principal, state.estate_id, conn)
            refers = REFERS_TO.get(name)
            context = {"target": await self._seen_or_none(body[refers], principal, conn)} \
                if refers and body.get(refers) else {}
            if name in PRICED:
                context["schedule"] = await load_fee_schedule(self.store, state.estate_id, conn)
            now = self.clock()  # one moment: what the decision says happened is when its events happened
            payloads = decide(name, state, body, actor, now, **context)
            return await self._append(conn, state, payloads, idempotency_key, actor, now)

        async def authorise(conn: asyncpg.Connection) -> None:
            # The case as the caller may see it now, and a role that gives this command; not
            # the state's guards, which the first answer itself has moved on.
            await self.load_case(case_id, principal, conn=conn)
            if principal.role not in ROLES[name]:
                raise NotPermitted(f"a {principal.role} may not {name} a case")

        for attempt in range(RETRIES_ON_CONFLICT):
            try:  # a repeated key is answered before the command is decided again
                return await self._idempotent(key, body, write, 200, authorise)
            except ConcurrencyConflict:
                if attempt == RETRIES_ON_CONFLICT - 1:
                    raise
        raise AssertionError("unreachable")

    async def _actor(self, principal: Principal, estate_id: str, conn: asyncpg.Connection) -> Actor:
        """The caller as the domain sees them; department staff with the departments the
        estate's staff lists name them in."""
        departments: frozenset[str] = frozenset()
        if principal.role in DEPARTMENT_BOUND:
            estate = await load_estate(self.store, estate_id, conn)
            departments = estate.departments_of(principal.user) if estate else frozenset()
        return Actor(principal.user, principal.role, departments, principal.household)

    async def _seen_or_none(self, case_id: Any, principal: Principal, conn: asyncpg.Connection) -> CaseState | None:
        """Another case a command names, as the caller may see it; None when there is none."""
        try:
            return await self.load_case(str(case_id), principal, conn=conn)
        except CaseNotFound:
            return None

    async def _append(self, conn: asyncpg.Connection, state: CaseState, payloads: list[Payload],
                      correlation_id: str | None, actor: Actor, now: datetime) -> dict:
        envelopes = envelopes_for(state.case_id, state.estate_id, state.version, payloads, now,
                                  correlation_id=correlation_id or state.case_id)
        position = await self.store.append(state.case_id, state.version, envelopes, conn=conn)
        after = state
        for envelope in envelopes:
            after = evolve(after, envelope.event_type, envelope.payload)
        return {"case_id": state.case_id, "status": after.status, "version": after.version, "position": position,
                "events": [e.event_type for e in envelopes],
                "allowed_commands": allowed_commands(after, actor.role, actor.departments)}


def _new_case(body: dict[str, Any]) -> NewCase:
    return NewCase(
        estate_id=body["estate_id"], type=body["type"], channel=body["channel"], title=body["title"],
        location=body["location"], reporter=body.get("reporter") or {}, category=body.get("category"),
        description=body.get("description") or "", received_at=body.get("received_at"),
        blocks={name: body.get(name) for name in ("repair", "complaint", "help", "violation")},
    )
