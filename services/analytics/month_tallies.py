"""The monthly figures kept incrementally (migration 0014), in the projection's transaction.

Each case view counts towards its estate's month by its tally and its durations
(domain/month_report). When a view changes, the difference of its tallies is added to the
month's rows and its durations are replaced, so reading a month sums a few hundred rows per
estate and walks an index to each percentile, however many cases the month holds; what is
read is exactly what a fold over the month's views would give.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Iterable

import asyncpg

from .domain.case_view import unsettled_due_at
from .domain.month_report import MEASURES, SHARES, Tally, durations, month_of, rank, summarise, tally

View = dict
BUILD = "month_tallies"

_ADD_COUNTS = (
    "INSERT INTO month_counts (month, estate_id, figure, key, n)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) ORDER BY 1, 2, 3, 4"
    " ON CONFLICT (month, estate_id, figure, key) DO UPDATE SET n = month_counts.n + EXCLUDED.n")
_PUT_DURATIONS = (
    "INSERT INTO month_durations (case_id, measure, month, estate_id, seconds)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[])"
    " ON CONFLICT (case_id, measure) DO UPDATE SET seconds = EXCLUDED.seconds")
_DROP_DURATIONS = ("DELETE FROM month_durations WHERE (case_id, measure) IN"
                   " (SELECT * FROM unnest($1::text[], $2::text[]))")


async def record(conn: asyncpg.Connection, changes: Iterable[tuple[View | None, View | None]]) -> None:
    """Count each (before, after) change of a case view into its month: a new view has no
    before, a forgotten one no after."""
    counts: Counter = Counter()
    put, drop = [], []
    for before, after in changes:
        for view, sign in ((before, -1), (after, 1)):
            if view is not None:
                where = (month_of(view["received_at"]), view["estate_id"])
                for (figure, key), n in tally(view).items():
                    counts[(*where, figure, key)] += sign * n
        was = durations(before) if before else {}
        now = durations(after) if after else {}
        for measure in MEASURES:
            if now.get(measure) is not None and now[measure] != was.get(measure):
                put.append((after["case_id"], measure, month_of(after["received_at"]), after["estate_id"],
                            now[measure]))
            elif now.get(measure) is None and was.get(measure) is not None:
                drop.append((before["case_id"], measure))
    if rows := [(*k, n) for k, n in counts.items() if n]:
        await conn.execute(_ADD_COUNTS, *map(list, zip(*rows)))
    if put:
        await conn.execute(_PUT_DURATIONS, *map(list, zip(*put)))
    if drop:
        await conn.execute(_DROP_DURATIONS, *map(list, zip(*drop)))


async def counted_month(conn: asyncpg.Connection, month: str, estate_id: str | None) -> dict:
    """Every monthly figure of one estate, or (None) of the group."""
    if estate_id is None:
        rows = await conn.fetch("SELECT figure, key, sum(n)::bigint AS n FROM month_counts WHERE month = $1"
                                " GROUP BY figure, key", month)
    else:
        rows = await conn.fetch("SELECT figure, key, n FROM month_counts WHERE month = $1 AND estate_id = $2",
                                month, estate_id)
    counts: Tally = Counter({(r["figure"], r["key"]): r["n"] for r in rows})
    percentiles = {}
    for measure in MEASURES:
        for _, share in SHARES:
            percentiles[(measure, share)] = await _nth(conn, month, estate_id, measure,
                                                       rank(counts[(measure, "")], share)) \
                if counts[(measure, "")] else None
    return summarise(counts, percentiles)


async def _nth(conn: asyncpg.Connection, month: str, estate_id: str | None, measure: str, position: int) -> float:
    if estate_id is None:
        return await conn.fetchval("SELECT seconds FROM month_durations WHERE month = $1 AND measure = $2"
                                   " ORDER BY seconds OFFSET $3 LIMIT 1", month, measure, position)
    return await conn.fetchval("SELECT seconds FROM month_durations WHERE estate_id = $4 AND month = $1"
                               " AND measure = $2 ORDER BY seconds OFFSET $3 LIMIT 1",
                               month, measure, position, estate_id)


async def count_stored_views(pool: asyncpg.Pool, chunk: int = 2000) -> None:
    """Count, once, the views stored before the tallies were kept; the projection waits meanwhile."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE case_views IN SHARE MODE")
        if await conn.fetchval("SELECT true FROM read_model_builds WHERE name = $1", BUILD):
            return
        views = []
        async for row in conn.cursor("SELECT view - 'history' - 'lifecycle' AS view FROM case_views"):
            views.append(json.loads(row["view"]))
            if len(views) == chunk:
                await _count_stored(conn, views)
                views = []
        await _count_stored(conn, views)
        await conn.execute("INSERT INTO read_model_builds (name) VALUES ($1)", BUILD)


async def _count_stored(conn: asyncpg.Connection, views: list[View]) -> None:
    await record(conn, [(None, v) for v in views])
    await conn.executemany("UPDATE case_views SET unsettled_due_at = $2::text::timestamptz WHERE case_id = $1",
                           [(v["case_id"], unsettled_due_at(v)) for v in views])
