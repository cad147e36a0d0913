"""Live boards: the dashboard of open and at-risk cases, and the shift-handover list (002 §4.6).

Both read columns of the open case views through a partial index of them (migration 0014),
never the views' whole documents: the counts are grouped in SQL, and only the cases with a
deadline left unsettled until the near-breach horizon are read for their deadlines.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import asyncpg

from .domain.case_view import CLOSED

NEAR_BREACH = timedelta(minutes=30)
# spelt out, so the planner matches the partial indexes of migration 0014
OPEN = "status NOT IN ({})".format(", ".join(f"'{status}'" for status in sorted(CLOSED)))


def _in_estate(estate_id: str | None, number: int) -> str:
    return "" if estate_id is None else f" AND estate_id = ${number}"


async def dashboard(pool: asyncpg.Pool, estate_id: str | None, now: datetime, day_start: datetime) -> dict:
    scope = [estate_id] if estate_id is not None else []
    async with pool.acquire() as conn:
        groups = await conn.fetch(f"SELECT status, departments, count(*) AS n FROM case_views WHERE {OPEN}"
                                  f"{_in_estate(estate_id, 1)} GROUP BY status, departments", *scope)
        soon = await conn.fetch(f"SELECT case_id, view->'deadlines' AS deadlines FROM case_views WHERE {OPEN}"
                                f" AND unsettled_due_at <= $1{_in_estate(estate_id, 2)} ORDER BY received_at",
                                now + NEAR_BREACH, *scope)
        breached_today = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'SlaBreached' AND occurred_at >= $1"
            f"{_in_estate(estate_id, 2)}", day_start, *scope)
    by_status, by_department = Counter(), Counter()
    for g in groups:
        by_status[g["status"]] += g["n"]
        for department in g["departments"] or ["unrouted"]:
            by_department[department] += g["n"]
    near = [{"case_id": row["case_id"], "rule": d["rule"], "due_at": d["due_at"]} for row in soon
            for d in json.loads(row["deadlines"]) if not d["met_at"] and not d["breached"]
            and now <= datetime.fromisoformat(d["due_at"]) <= now + NEAR_BREACH]
    return {"estate_id": estate_id, "open": sum(by_status.values()), "open_by_status": dict(by_status),
            "open_by_department": dict(by_department),
            "near_breach": sorted(near, key=lambda n: n["due_at"]), "breaches_today": breached_today}


async def handover(pool: asyncpg.Pool, estate_id: str | None) -> dict:
    """Every open item for the next shift, oldest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT case_id, type, view->>'title' AS title, status, departments, assignee,"
            " view->>'received_at' AS received_at, breached AND view->'deadlines' @? '$[*] ? (@.breached == true"
            " && @.met_at == null)' AS overdue"
            f" FROM case_views WHERE {OPEN}{_in_estate(estate_id, 1)} ORDER BY received_at",
            *([estate_id] if estate_id is not None else []))
    return {"estate_id": estate_id, "items": [dict(r) for r in rows]}
