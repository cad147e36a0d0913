"""`Idempotency-Key`: the same key and body returns the first answer; another body is a 409."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import asyncpg


class IdempotencyMismatch(Exception):
    pass


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def recall(conn: asyncpg.Connection, key: str, body_hash: str) -> tuple[int, dict] | None:
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1", key
    )
    if row is None:
        return None
    if row["request_hash"] != body_hash:
        raise IdempotencyMismatch(key)
    return row["status_code"], json.loads(row["response"])


async def remember(conn: asyncpg.Connection, key: str, body_hash: str, status: int, response: dict) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (key, request_hash, status_code, response) VALUES ($1, $2, $3, $4)",
        key, body_hash, status, json.dumps(response),
    )
