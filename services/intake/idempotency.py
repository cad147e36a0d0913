"""`Idempotency-Key`: the same key and body returns the first answer; another body is a 409.

A key belongs to the request it was sent with and to the user who sent it, never to a key
value alone: two users who happen to pick the same key get their own answers. And a stored
answer is only handed out to a caller who may still be given it — a token for the same user
id but other estates, another role or another household gets the refusal the request itself
would get, not the answer stored for the first token.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import asyncpg


class IdempotencyMismatch(Exception):
    pass


def scoped_key(request: str, user: str, key: str) -> str:
    """The stored key of `key` sent by `user` with `request` (e.g. "POST /v1/cases"); the
    user and the request's parts are quoted so that no choice of them spells another's key."""
    method, _, path = request.partition(" ")
    safe_path = "/".join(quote(part, safe="") for part in path.split("/"))
    return f"{method} {safe_path}:{quote(user, safe='@')}:{key}"


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def recall(conn: asyncpg.Connection, key: str, body_hash: str,
                 authorise: Callable[[], Awaitable[None]]) -> tuple[int, dict] | None:
    """The first answer to `key`, or None if there is none yet. `authorise` runs before a
    stored answer is looked at and raises if the caller may not have it."""
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1", key
    )
    if row is None:
        return None
    await authorise()
    if row["request_hash"] != body_hash:
        raise IdempotencyMismatch(key)
    return row["status_code"], json.loads(row["response"])


async def remember(conn: asyncpg.Connection, key: str, body_hash: str, status: int, response: dict) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (key, request_hash, status_code, response) VALUES ($1, $2, $3, $4)",
        key, body_hash, status, json.dumps(response),
    )
