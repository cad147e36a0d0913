"""Staff accounts in PostgreSQL (table console_accounts) with argon2 password hashes."""
from __future__ import annotations

from datetime import datetime

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from estatedesk.auth import ROLES, bad_estate_ids

from .policy import Attempt, judge

_hasher = PasswordHasher()
_COLUMNS = "user_id, display_name, role, estates, department, email, disabled, failed_attempts, locked_until"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def add_account(pool: asyncpg.Pool, *, user_id: str, display_name: str, role: str, estates: list[str],
                      password: str, department: str | None = None, email: str | None = None,
                      replace: bool = False) -> bool:
    """Create an account; False if it exists (unless `replace`)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    if bad_estate_ids(estates):
        raise ValueError(f"not estate ids: {', '.join(bad_estate_ids(estates))}; group-wide access comes from"
                         " a group role")
    conflict = ("DO UPDATE SET display_name = EXCLUDED.display_name, role = EXCLUDED.role, estates = EXCLUDED.estates,"
                " department = EXCLUDED.department, email = EXCLUDED.email, password_hash = EXCLUDED.password_hash"
                if replace else "DO NOTHING")
    async with pool.acquire() as conn:
        status = await conn.execute(
            "INSERT INTO console_accounts (user_id, display_name, role, estates, department, email, password_hash)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) {conflict}",
            user_id, display_name, role, estates, department, email, hash_password(password))
    return status.endswith("1")


async def set_password(pool: asyncpg.Pool, user_id: str, password: str) -> bool:
    async with pool.acquire() as conn:
        status = await conn.execute(
            "UPDATE console_accounts SET password_hash = $2, failed_attempts = 0, locked_until = NULL"
            " WHERE user_id = $1", user_id, hash_password(password))
    return status.endswith("1")


async def set_disabled(pool: asyncpg.Pool, user_id: str, disabled: bool = True) -> bool:
    async with pool.acquire() as conn:
        status = await conn.execute("UPDATE console_accounts SET disabled = $2 WHERE user_id = $1", user_id, disabled)
    return status.endswith("1")


async def get_account(pool: asyncpg.Pool, user_id: str) -> dict | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM console_accounts WHERE user_id = $1", user_id)
    return dict(row) if row else None


async def list_accounts(pool: asyncpg.Pool) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM console_accounts ORDER BY user_id")
    return [dict(r) for r in rows]


async def holders(pool: asyncpg.Pool, role: str, estate_id: str | None) -> list[dict]:
    """Enabled accounts holding `role` for the estate (group roles hold it everywhere)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM console_accounts WHERE role = $1 AND NOT disabled"
            " AND ($2::text IS NULL OR $2 = ANY(estates) OR role IN ('group_service_center', 'group_admin'))",
            role, estate_id)
    return [dict(r) for r in rows]


async def emails(pool: asyncpg.Pool, user_ids: list[str]) -> dict[str, str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT user_id, email FROM console_accounts WHERE user_id = ANY($1::text[])"
                                " AND email IS NOT NULL AND NOT disabled", user_ids)
    return {r["user_id"]: r["email"] for r in rows}


async def sign_in(pool: asyncpg.Pool, user_id: str, password: str, now: datetime) -> tuple[Attempt, dict | None]:
    """Check a password and record the outcome in one transaction (row locked)."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS}, password_hash FROM console_accounts WHERE user_id = $1 FOR UPDATE", user_id)
            account = dict(row) if row else None
            ok = password_matches(account["password_hash"] if account else None, password)
            attempt = judge(account, ok, now)
            if account is not None and attempt.reason in ("ok", "wrong_password", "locked"):
                await conn.execute(
                    "UPDATE console_accounts SET failed_attempts = $2, locked_until = $3 WHERE user_id = $1",
                    user_id, attempt.failed_attempts, attempt.locked_until)
    if account:
        account.pop("password_hash", None)
    return attempt, account
