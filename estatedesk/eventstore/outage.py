"""What counts as the database being away rather than a request or a message being wrong.

A dropped or refused connection, a server shutting down or out of connections, a pool that
cannot hand out a connection in time: each passes, so a consumer waits and retries instead
of dead-lettering a valid event, and the API answers 503 with Retry-After instead of 500.
"""
from __future__ import annotations

import asyncio

import asyncpg

DATABASE_AWAY: tuple[type[BaseException], ...] = (
    OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError, asyncpg.TooManyConnectionsError,
)
RETRY_AFTER_S = 2
