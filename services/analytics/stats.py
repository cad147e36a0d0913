"""Monthly statistics served from the case views.

Computed on request from the month's rows of `case_views` (an index on received_at serves
the month; the fold is linear): 50,000 cases take about a second, and the figures can never
drift from the views they summarise, which a separately maintained counter table could.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from .domain.group_register import register
from .domain.month_report import change, figures

GROUP_TIMEZONE = ZoneInfo("Asia/Shanghai")


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


async def _views(pool: asyncpg.Pool, month: str, estate_id: str | None) -> list[dict]:
    start, end = month_bounds(month)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT view - 'history' - 'lifecycle' AS view FROM case_views WHERE received_at >= $1 AND received_at < $2"
            " AND ($3::text IS NULL OR estate_id = $3)", start, end, estate_id)
    return [json.loads(r["view"]) for r in rows]


async def monthly(pool: asyncpg.Pool, month: str, estate_id: str | None) -> dict:
    current = figures(await _views(pool, month, estate_id))
    previous = figures(await _views(pool, previous_month(month), estate_id))
    return {"month": month, "estate_id": estate_id, **current, "change": change(current, previous)}
