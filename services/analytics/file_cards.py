"""Complaint file cards of a month, read from the case views that hold one.

A card belongs to the month its case was received in, as every monthly figure does, so the
list of a month has as many cards as its `file_cards_opened` figure counts.
"""
from __future__ import annotations

import json

import asyncpg

from .stats import month_bounds


async def of_month(pool: asyncpg.Pool, month: str, estate_id: str | None) -> list[dict]:
    """The month's cards, oldest case first, each with its case id, estate and status."""
    start, end = month_bounds(month)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT case_id, estate_id, status, view->'file_card' AS card FROM case_views"
            " WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR estate_id = $3)"
            " AND type = 'complaint' AND jsonb_typeof(view->'file_card') = 'object'"
            " ORDER BY received_at, case_id", start, end, estate_id)
    return [{"case_id": r["case_id"], "estate_id": r["estate_id"], "status": r["status"], **json.loads(r["card"])}
            for r in rows]
