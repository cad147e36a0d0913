"""The store sweep: how a consumer notices cases whose every message the broker lost.

Catching up on the next message about a case (tracking.py) heals most losses, but a case
whose only message vanished (a memory-storage broker restarted between relay and consumer)
would never be heard of. Each consumer therefore walks the store by global position, a
grace period behind its head so that it does not race the messages still in flight, and
catches up every case that has events beyond what the consumer applied — counting only the
event types the consumer is notified of, so another service's events on a case (which reach
this consumer with the next message it hears of) are never taken for a loss.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Awaitable, Callable

import asyncpg

from estatedesk.clock import Clock
from estatedesk.web.logs import about

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, pool: asyncpg.Pool, consumer: str, catch_up: Callable[[str], Awaitable[None]], clock: Clock,
                 *, event_types: tuple[str, ...], grace_s: float = 5.0, interval_s: float = 2.0, batch: int = 1000,
                 on_recovered: Callable[[int], None] = lambda n: None):
        self._pool, self._consumer, self._catch_up, self._clock = pool, consumer, catch_up, clock
        self._types = list(event_types)
        self._grace = timedelta(seconds=grace_s)
        self._interval, self._batch = interval_s, batch
        self._on_recovered = on_recovered
        self.recovered = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while await self.sweep_once() == self._batch and not stop.is_set():
                    pass
            except Exception:  # the sweep is a safety net; it must never take the service down
                log.exception("%s: store sweep failed; will try again", self._consumer)
            try:
                await asyncio.wait_for(stop.wait(), self._interval)
            except asyncio.TimeoutError:
                pass

    async def sweep_once(self) -> int:
        """Sweep one batch; returns how many events it looked at."""
        cutoff: datetime = self._clock() - self._grace
        async with self._pool.acquire() as conn:
            swept = await conn.fetchval("SELECT position FROM consumer_sweeps WHERE consumer = $1", self._consumer) or 0
            rows = await conn.fetch(
                "SELECT e.position, e.case_id, e.recorded_at, coalesce(p.position, 0) AS applied FROM"
                " (SELECT position, case_id, recorded_at FROM events WHERE position > $1 AND event_type = ANY($4)"
                "  ORDER BY position LIMIT $2) e"
                " LEFT JOIN case_positions p ON p.consumer = $3 AND p.case_id = e.case_id ORDER BY e.position",
                swept, self._batch, self._consumer, self._types,
            )
        looked, missed = 0, {}  # case id -> the first event of it found unapplied
        for row in rows:
            if row["recorded_at"] >= cutoff:
                break
            looked += 1
            swept = row["position"]
            if row["applied"] < row["position"] and row["case_id"] not in missed:
                missed[row["case_id"]] = row["position"]
        for case_id in missed:
            try:
                with about(case_id=case_id):
                    await self._catch_up(case_id)
            except Exception:  # one broken case must not hold back every case after it
                log.exception("%s: cannot catch up case %s; its next message will try again",
                              self._consumer, case_id, extra={"case_id": case_id})
        if missed:
            self.recovered += len(missed)
            self._on_recovered(len(missed))
            log.warning("%s: caught up %d case(s) found only in the store", self._consumer, len(missed))
        if looked:
            async with self._pool.acquire() as conn:
                if missed:
                    await conn.executemany(
                        "INSERT INTO sweep_recoveries (consumer, case_id, position) VALUES ($1, $2, $3)"
                        " ON CONFLICT DO NOTHING", [(self._consumer, c, p) for c, p in missed.items()])
                await conn.execute(
                    "INSERT INTO consumer_sweeps (consumer, position) VALUES ($1, $2)"
                    " ON CONFLICT (consumer) DO UPDATE SET position = EXCLUDED.position", self._consumer, swept)
        return looked
