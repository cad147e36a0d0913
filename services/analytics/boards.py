"""Live boards: the dashboard of open and at-risk cases, and the shift-handover list (002 §4.6)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import asyncpg

NEAR_BREACH = timedelta(minutes=30)
CLOSED = ("archived", "cancelled", "merged")


async def _open_views(pool: asyncpg.Pool, estate_id: str | None) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT view - 'history' - 'lifecycle' AS view FROM case_views"
            " WHERE status <> ALL($1::text[]) AND ($2::text IS NULL OR estate_id = $2)"
            " ORDER BY received_at", list(CLOSED), estate_id)
    return [json.loads(r["view"]) for r in rows]


async def dashboard(pool: asyncpg.Pool, estate_id: str | None, now: datetime, day_start: datetime) -> dict:
    open_views = await _open_views(pool, estate_id)
    near = [{"case_id": v["case_id"], "rule": d["rule"], "due_at": d["due_at"]} for v in open_views
            for d in v["deadlines"] if not d["met_at"] and not d["breached"]
            and now <= datetime.fromisoformat(d["due_at"]) <= now + NEAR_BREACH]
    async with pool.acquire() as conn:
        breached_today = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'SlaBreached' AND occurred_at >= $1"
            " AND ($2::text IS NULL OR estate_id = $2)", day_start, estate_id)
    return {"estate_id": estate_id, "open": len(open_views),
            "open_by_status": dict(Counter(v["status"] for v in open_views)),
            "open_by_department": dict(Counter(d for v in open_views for d in v["departments"] or ["unrouted"])),
            "near_breach": sorted(near, key=lambda n: n["due_at"]), "breaches_today": breached_today}


async def handover(pool: asyncpg.Pool, estate_id: str | None) -> dict:
    """Every open item for the next shift, oldest first."""
    return {"estate_id": estate_id, "items": [
        {"case_id": v["case_id"], "type": v["type"], "title": v["title"], "status": v["status"],
         "departments": v["departments"], "assignee": v["assignee"], "received_at": v["received_at"],
         "overdue": any(d["breached"] and not d["met_at"] for d in v["deadlines"])}
        for v in await _open_views(pool, estate_id)]}
