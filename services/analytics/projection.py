"""The case-view projection in Postgres: apply events exactly once, read views back."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from estatedesk.contracts import Envelope
from estatedesk.eventstore import EventStore
from estatedesk.eventstore.tracking import lock_case, unapplied_events

from . import month_tallies
from .domain.case_view import apply_all, is_breached, mailbox_state, next_due_at, unsettled_due_at
from .domain.search import grams, normal_query, query_grams

CONSUMER = "analytics.case_views"
FOLDED_SINCE = frozenset({"lifecycle", "file_card", "mailbox"})
"""Keys a stored view lacks when an older fold wrote it."""


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
    view = stored = await _load(conn, case_id)
    if view is not None and not FOLDED_SINCE <= view.keys():
        # a view written before the shared fold, the file card or the mailbox was kept in it: fold it afresh
        view, events = None, await EventStore.read_case_on(conn, case_id)
    view = apply_all(view, [event.model_dump(mode="json") for event in events])
    if view is not None:
        await _save(conn, view, events[-1].recorded_at, any(e.event_type == "CaseReceived" for e in events))
        await month_tallies.record(conn, [(stored, view)])


async def forget(conn: asyncpg.Connection, case_ids: list[str]) -> None:
    rows = await conn.fetch("DELETE FROM case_views WHERE case_id = ANY($1) RETURNING view - 'history' AS view",
                            case_ids)
    await month_tallies.record(conn, [(json.loads(r["view"]), None) for r in rows])


async def _load(conn: asyncpg.Connection, case_id: str) -> dict | None:
    raw = await conn.fetchval("SELECT view FROM case_views WHERE case_id = $1", case_id)
    return json.loads(raw) if raw else None


_UPSERT = (
    "INSERT INTO case_views (case_id, estate_id, type, status, departments, breached, received_at, view,"
    " updated_at, assignee, coordinator, household_id, next_due_at, mailbox, unsettled_due_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (case_id) DO UPDATE SET"
    " status = EXCLUDED.status, departments = EXCLUDED.departments, breached = EXCLUDED.breached,"
    " view = EXCLUDED.view, updated_at = EXCLUDED.updated_at, assignee = EXCLUDED.assignee,"
    " coordinator = EXCLUDED.coordinator, household_id = EXCLUDED.household_id,"
    " next_due_at = EXCLUDED.next_due_at, mailbox = EXCLUDED.mailbox, unsettled_due_at = EXCLUDED.unsettled_due_at")
_INDEX_TEXT = ("INSERT INTO case_search (case_id, estate_id, grams) VALUES ($1, $2, $3)"
               " ON CONFLICT (case_id) DO NOTHING")


def view_row(view: dict, updated_at: datetime) -> tuple:
    return (view["case_id"], view["estate_id"], view["type"], view["status"], view["departments"],
            is_breached(view), datetime.fromisoformat(view["received_at"]), json.dumps(view), updated_at,
            view["assignee"], view["coordinator"], (view["reporter"] or {}).get("household_id"),
            _instant(next_due_at(view)), mailbox_state(view), _instant(unsettled_due_at(view)))


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _text_row(view: dict) -> tuple:
    return view["case_id"], view["estate_id"], grams(f"{view['title']} {view.get('description') or ''}")


async def _save(conn: asyncpg.Connection, view: dict, updated_at: datetime, received_now: bool) -> None:
    await conn.execute(_UPSERT, *view_row(view, updated_at))
    if received_now:
        await conn.execute(_INDEX_TEXT, *_text_row(view))


async def rebuild_cases(conn: asyncpg.Connection, by_case: dict[str, list[Envelope]]) -> None:
    """Fold each case's whole history afresh and write the views in one batch (a rebuild)."""
    views = [(view, events[-1].recorded_at) for events in by_case.values()
             if (view := apply_all(None, [event.model_dump(mode="json") for event in events])) is not None]
    await conn.executemany(_UPSERT, [view_row(view, updated_at) for view, updated_at in views])
    await month_tallies.record(conn, [(None, view) for view, _ in views])


async def case_view(pool: asyncpg.Pool, case_id: str) -> dict | None:
    async with pool.acquire() as conn:
        return await _load(conn, case_id)


async def reporter_contact(pool: asyncpg.Pool, case_id: str) -> dict:
    """Name and phone as the desk took them, unless erased on the resident's request."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT name, phone FROM reporter_contacts WHERE case_id = $1 AND erased_at IS NULL", case_id)
    return {"name": row["name"], "phone": row["phone"]} if row else {}


@dataclass(frozen=True)
class CaseFilter:
    """What a case list asks for; every field narrows it, None leaves it open."""

    estates: list[str] | None = None
    status: str | None = None
    type: str | None = None
    department: str | None = None
    breached: bool | None = None
    assignee: str | None = None
    coordinator: str | None = None
    household_id: str | None = None
    due_before: datetime | None = None
    text: str | None = None
    mine: tuple[str, list[str]] | None = None  # (user, the user's departments)
    confidential_text: bool = True  # False: a confidential consultation is found by its title only
    mailbox: Literal["open", "all"] | None = None  # cases with items in the general manager's mailbox


def list_query(f: CaseFilter, limit: int, after: tuple[datetime, str] | None) -> tuple[str, list]:
    """One SELECT for the filter; each clause is served by an index of migrations 0011 and 0012."""
    clauses, args = [], []

    def arg(value) -> str:
        args.append(value)
        return f"${len(args)}"

    for column, value in (("status", f.status), ("type", f.type), ("assignee", f.assignee),
                          ("coordinator", f.coordinator), ("household_id", f.household_id)):
        if value is not None:
            clauses.append(f"{column} = {arg(value)}")
    def in_estates() -> str:  # one estate as `=`: the planner then uses the estate-led indexes
        assert f.estates is not None
        return f"estate_id = {arg(f.estates[0])}" if len(f.estates) == 1 else f"estate_id = ANY({arg(f.estates)})"

    if f.estates is not None:
        clauses.append(in_estates())
    if f.department:
        clauses.append(f"departments @> ARRAY[{arg(f.department)}]")
    if f.breached is not None:
        clauses.append("breached" if f.breached else "NOT breached")
    if f.mailbox is not None:
        clauses.append("mailbox = 'open'" if f.mailbox == "open" else "mailbox IS NOT NULL")
    if f.due_before is not None:
        clauses.append(f"next_due_at < {arg(f.due_before)}")
    if f.text:
        within = f"{in_estates()} AND " if f.estates is not None else ""
        clauses.append(f"case_id IN (SELECT case_id FROM case_search WHERE {within}"
                       f"grams @> {arg(query_grams(f.text))}::text[])")
        description = "view->>'description'" if f.confidential_text else \
            "CASE WHEN view->'consultation'->>'confidential' = 'true' THEN '' ELSE view->>'description' END"
        clauses.append(f"strpos(lower(view->>'title') || ' ' || lower(coalesce({description}, '')),"
                       f" {arg(normal_query(f.text))}) > 0")
    if f.mine is not None:
        user, departments = f.mine
        clauses.append(f"(assignee = {arg(user)} OR coordinator = {arg(user)}"
                       f" OR departments && {arg(departments)}::text[])")
    if after:
        clauses.append(f"(received_at, case_id) < ({arg(after[0])}, {arg(after[1])})")
    where = " AND ".join(clauses) or "true"
    return (f"SELECT view FROM case_views WHERE {where} ORDER BY received_at DESC, case_id DESC"
            f" LIMIT {arg(limit)}", args)


async def list_views(pool: asyncpg.Pool, case_filter: CaseFilter, limit: int,
                     after: tuple[datetime, str] | None) -> list[dict]:
    query, args = list_query(case_filter, limit, after)
    async with pool.acquire() as conn:
        rows = await conn.fetch(query, *args)
    return [json.loads(r["view"]) for r in rows]


async def applied_count(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM case_views")
