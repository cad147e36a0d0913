"""The console's inbox table: one row per (event, recipient), written idempotently."""
from __future__ import annotations

import json
import uuid

import asyncpg


async def notify(pool: asyncpg.Pool, *, event_id: uuid.UUID, event_type: str, case_id: str, estate_id: str | None,
                 recipients: list[str], summary: dict) -> int:
    """Insert one notification per recipient; a redelivered event inserts nothing. Returns rows added."""
    if not recipients:
        return 0
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "INSERT INTO console_notifications (event_id, recipient, event_type, case_id, estate_id, summary)"
            " SELECT $1, r, $2, $3, $4, $5::jsonb FROM unnest($6::text[]) AS r"
            " ON CONFLICT (event_id, recipient) DO NOTHING RETURNING id",
            event_id, event_type, case_id, estate_id, json.dumps(summary, default=str), recipients)
    return len(rows)


async def inbox(pool: asyncpg.Pool, recipient: str, limit: int = 100) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, event_id, event_type, case_id, estate_id, summary, created_at, read_at"
            " FROM console_notifications WHERE recipient = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            recipient, limit)
    return [{**dict(r), "summary": json.loads(r["summary"])} for r in rows]


async def unread(pool: asyncpg.Pool, recipient: str) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM console_notifications WHERE recipient = $1 AND read_at IS NULL", recipient)


async def mark_read(pool: asyncpg.Pool, recipient: str, ids: list[int] | None = None) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE console_notifications SET read_at = now() WHERE recipient = $1 AND read_at IS NULL"
            " AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))", recipient, ids)


async def claim_unsent(pool: asyncpg.Pool, limit: int = 50) -> list[dict]:
    """Take rows not yet e-mailed (stamping them), skipping rows another console replica holds."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "WITH claimed AS (UPDATE console_notifications SET emailed_at = now() WHERE id IN ("
            "  SELECT id FROM console_notifications WHERE emailed_at IS NULL ORDER BY id LIMIT $1"
            "  FOR UPDATE SKIP LOCKED) RETURNING id, recipient, event_type, case_id, estate_id, summary)"
            " SELECT c.*, a.email FROM claimed c LEFT JOIN console_accounts a ON a.user_id = c.recipient"
            " ORDER BY c.id", limit)
    return [{**dict(r), "summary": json.loads(r["summary"])} for r in rows]


async def release(pool: asyncpg.Pool, notification_id: int) -> None:
    """Give a claimed row back (its mail could not be sent) so that a later round tries again."""
    async with pool.acquire() as conn:
        await conn.execute("UPDATE console_notifications SET emailed_at = NULL WHERE id = $1", notification_id)
