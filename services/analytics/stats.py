"""Monthly statistics served from the month's tallies, kept beside the case views in the
projection's transaction (month_tallies), and the group register from the month's views."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import asyncpg

from .domain.group_register import register
from .domain.month_report import GROUP_TIMEZONE, change
from .month_tallies import counted_month



def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a YYYY-MM month in the group's timezone; ValueError if malformed."""
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=GROUP_TIMEZONE)
    return start, (start + timedelta(days=32)).replace(day=1)


def previous_month(month: str) -> str:
    start, _ = month_bounds(month)
    return (start - timedelta(days=1)).strftime("%Y-%m")


async def group_register(pool: asyncpg.Pool, month: str, estates: list[str] | None) -> list[dict]:
    """The register's entries of the complaints received in `month` in `estates` (None: every estate)."""
    start, end = month_bounds(month)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT view - 'history' - 'lifecycle' AS view FROM case_views WHERE type = 'complaint'"
            " AND received_at >= $1 AND received_at < $2 AND ($3::text[] IS NULL OR estate_id = ANY($3))",
            start, end, estates)
    return register([json.loads(r["view"]) for r in rows])


async def monthly(pool: asyncpg.Pool, month: str, estate_id: str | None) -> dict:
    async with pool.acquire() as conn:
        current = await counted_month(conn, month, estate_id)
        previous = await counted_month(conn, previous_month(month), estate_id)
    return {"month": month, "estate_id": estate_id, **current, "change": change(current, previous)}
