"""Rebuilding the projections from the event store gives the rows the live path built."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from estatedesk.streams import NOT_CASE_PREFIXES
from tests.support import eventually, repair_case


async def _caught_up(pool) -> bool:
    async with pool.acquire() as conn:
        behind = await conn.fetchval(
            "SELECT count(*) FROM (SELECT case_id, max(position) AS head FROM events"
            " WHERE stream_id NOT LIKE ALL($1) GROUP BY case_id) e"
            " LEFT JOIN case_positions p ON p.consumer = 'analytics.case_views' AND p.case_id = e.case_id"
            " WHERE coalesce(p.position, 0) < e.head", [f"{prefix}%" for prefix in NOT_CASE_PREFIXES])
        outbox = await conn.fetchval("SELECT count(*) FROM outbox")
    return behind == 0 and outbox == 0


async def _snapshot(pool):
    async with pool.acquire() as conn:
        return [tuple(r) for r in await conn.fetch("SELECT * FROM case_views ORDER BY case_id")]


async def test_rebuilt_projections_equal_the_live_ones(stack, intake, pool):
    for i in range(5):
        assert (await intake.post("/v1/cases", json=repair_case(title=f"Replay {i}"))).status_code == 201
    await eventually(lambda: _caught_up(pool), timeout=30, what="analytics caught up with the store")
    live = await _snapshot(pool)
    assert len(live) >= 5

    env = {**os.environ, "DATABASE_URL": stack.settings.database_url}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "estatedesk.cli", "replay", "--projections"],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "rebuilt the projections of" in done.stdout

    assert await _snapshot(pool) == live
