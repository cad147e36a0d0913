"""Dispatch's working state in Postgres: only the deciding estate's counts and the one case are loaded."""
from __future__ import annotations

import json

import asyncpg

from .domain import DispatchState
from .domain.state import CaseRecord


async def lock_estate(conn: asyncpg.Connection, estate_id: str) -> None:
    """Decisions of one estate are serialised: they share its open-case counts and cursors."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"dispatch/{estate_id}")


async def load(conn: asyncpg.Connection, estate_id: str, case_id: str) -> DispatchState:
    estate = await conn.fetchrow("SELECT open_cases, cursors FROM dispatch_estates WHERE estate_id = $1", estate_id)
    record = await conn.fetchval("SELECT record FROM dispatch_cases WHERE case_id = $1", case_id)
    return DispatchState(
        open_cases={estate_id: json.loads(estate["open_cases"])} if estate else {},
        cursors={estate_id: json.loads(estate["cursors"])} if estate else {},
        cases={case_id: CaseRecord.from_dict(json.loads(record))} if record else {},
    )


async def save(conn: asyncpg.Connection, estate_id: str, case_id: str, state: DispatchState) -> None:
    await conn.execute(
        "INSERT INTO dispatch_estates (estate_id, open_cases, cursors) VALUES ($1, $2, $3)"
        " ON CONFLICT (estate_id) DO UPDATE SET open_cases = EXCLUDED.open_cases, cursors = EXCLUDED.cursors",
        estate_id, json.dumps(dict(state.load(estate_id))), json.dumps(dict(state.cursors.get(estate_id, {}))),
    )
    record = state.record(case_id)
    if record is not None:
        await conn.execute(
            "INSERT INTO dispatch_cases (case_id, estate_id, record) VALUES ($1, $2, $3)"
            " ON CONFLICT (case_id) DO UPDATE SET record = EXCLUDED.record",
            case_id, estate_id, json.dumps(record.to_dict()),
        )
