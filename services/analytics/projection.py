"""The case-view projection in Postgres: apply events exactly once, read views back."""
from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from estatedesk.contracts import Envelope
from estatedesk.eventstore.tracking import lock_case, unapplied_events

from .domain.case_view import apply, is_breached

CONSUMER = "analytics.case_views"


async def project(pool: asyncpg.Pool, case_id: str) -> None:
    """Bring the case's view up to date with the store."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_case(conn, CONSUMER, case_id)
        await apply_events(conn, case_id, await unapplied_events(conn, CONSUMER, case_id))


async def apply_events(conn: asyncpg.Connection, case_id: str, events: list[Envelope]) -> None:
    """Fold `events` into the stored view; `updated_at` is the last event's, so a rebuild
    produces the very rows the live path did."""
    if not events:
        return
    view = await _load(conn, case_id)
    for event in events:
        view = apply(view, event.model_dump(mode="json"))
    if view is not None:
        await _save(conn, view, events[-1].recorded_at)


async def forget(conn: asyncpg.Connection, case_ids: list[str]) -> None:
    await conn.execute("DELETE FROM case_views WHERE case_id = ANY($1)", case_ids)


async def _load(conn: asyncpg.Connection, case_id: str) -> dict | None:
    raw = await conn.fetchval("SELECT view FROM case_views WHERE case_id = $1", case_id)
    return json.loads(raw) if raw else None


async def _save(conn: asyncpg.Connection, view: dict, updated_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO case_views (case_id, estate_id, type, status, departments, breached, received_at, view, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_id) DO UPDATE SET"
        " status = EXCLUDED.status, departments = EXCLUDED.departments, breached = EXCLUDED.breached,"
        " view = EXCLUDED.view, updated_at = EXCLUDED.updated_at",
        view["case_id"], view["estate_id"], view["type"], view["status"], view["departments"],
        is_breached(view), datetime.fromisoformat(view["received_at"]), json.dumps(view), updated_at,
    )


async def case_view(pool: asyncpg.Pool, case_id: str) -> dict | None:
    async with pool.acquire() as conn:
        return await _load(conn, case_id)


async def reporter_contact(pool: asyncpg.Pool, case_id: str) -> dict:
    """Name and phone as the desk took them, unless erased on the resident's request."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT name, phone FROM reporter_contacts WHERE case_id = $1 AND erased_at IS NULL", case_id)
    return {"name": row["name"], "phone": row["phone"]} if row else {}


async def list_views(pool: asyncpg.Pool, *, estates: list[str] | None, status: str | None, type_: str | None,
                     department: str | None, breached: bool | None, limit: int,
                     after: tuple[datetime, str] | None) -> list[dict]:
    clauses, args = [], []

    def arg(value) -> str:
        args.append(value)
        return f"${len(args)}"

    if estates is not None:
        clauses.append(f"estate_id = ANY({arg(estates)})")
    if status:
        clauses.append(f"status = {arg(status)}")
    if type_:
        clauses.append(f"type = {arg(type_)}")
    if department:
        clauses.append(f"{arg(department)} = ANY(departments)")
    if breached is not None:
        clauses.append(f"breached = {arg(breached)}")
    if after:
        clauses.append(f"(received_at, case_id) < ({arg(after[0])}, {arg(after[1])})")
    where = " AND ".join(clauses) or "true"
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT view FROM case_views WHERE {where} ORDER BY received_at DESC, case_id DESC LIMIT {arg(limit)}",
            *args,
        )
    return [json.loads(r["view"]) for r in rows]


async def applied_count(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM case_views")
