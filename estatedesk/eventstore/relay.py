"""The outbox relay: publishes outbox rows to Kafka, in order, at least once.

One relay per set of topics is active at a time (a session advisory lock elects it), so
rows of one case leave in the order they were written. A batch is deleted only after the
broker acknowledged every message in it; if the broker is away the same batch is tried
again, so a crash or an outage can repeat messages but never lose one. Consumers
deduplicate by event id and stream version.
"""
from __future__ import annotations

import asyncio
import logging
import zlib
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

import asyncpg

from .store import OUTBOX_CHANNEL

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def publish(self, batch: list[tuple[str, str, bytes]]) -> None:
        """Send (topic, key, message) triples; return once all are acknowledged."""


@dataclass
class RelayStats:
    published: int = 0
    failures: int = 0
    backlog: int = 0
    leader: bool = False


class OutboxRelay:
    def __init__(
        self,
        database_url: str,
        publisher: Publisher,
        topics: tuple[str, ...],
        *,
        batch_size: int = 500,
        idle_wait_s: float = 1.0,
        on_published: Callable[[int], None] | None = None,
    ):
        self._url = database_url
        self._publisher = publisher
        self._topics = list(topics)
        self._batch = batch_size
        self._idle = idle_wait_s
        self._on_published = on_published or (lambda n: None)
        self._wake = asyncio.Event()
        self.stats = RelayStats()
        self._lock_id = zlib.crc32(",".join(sorted(topics)).encode())

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; reconnects after database errors."""
        while not stop.is_set():
            try:
                await self._run_connected(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.stats.leader = False
                log.warning("outbox relay lost the database (%s); retrying", exc)
                await _wait(stop, 1.0)

    async def _run_connected(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self._url)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_id):
                if await _wait(stop, 1.0):
                    return
            self.stats.leader = True
            await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
            while not stop.is_set():
                # cleared before reading, not after: a NOTIFY that arrives while a batch is
                # read and published must wake the next round, not be wiped out
                self._wake.clear()
                sent = await self._relay_batch(conn)
                if sent < self._batch:
                    await _first(stop.wait(), self._wake.wait(), timeout=self._idle)
        finally:
            self.stats.leader = False
            await conn.close()

    async def _relay_batch(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(
            "SELECT id, topic, key, message FROM outbox WHERE topic = ANY($1) ORDER BY id LIMIT $2",
            self._topics, self._batch,
        )
        # Counting is only worth it when a full batch says more may be waiting.
        self.stats.backlog = len(rows) if len(rows) < self._batch else await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = ANY($1)", self._topics)
        if not rows:
            return 0
        try:
            await self._publisher.publish([(r["topic"], r["key"], bytes(r["message"])) for r in rows])
        except Exception as exc:  # broker away or timing out: keep the rows, try again
            self.stats.failures += 1
            # Only a leading run of acknowledged rows may go: a later row of a case must not
            # leave before an earlier one that is still to be retried.
            acknowledged = getattr(exc, "acknowledged", 0)
            log.warning("publishing outbox rows failed (%s); %d of %d acknowledged, retrying the rest",
                        type(exc).__name__, acknowledged, len(rows))
            await self._delete(conn, rows[:acknowledged])
            await asyncio.sleep(0.5)
            return 0
        await self._delete(conn, rows)
        return len(rows)

    async def _delete(self, conn: asyncpg.Connection, rows: list) -> None:
        if not rows:
            return
        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        self.stats.published += len(rows)
        self.stats.backlog -= len(rows)
        self._on_published(len(rows))


async def _first(*aws: Awaitable, timeout: float) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except asyncio.TimeoutError:
        return False
