"""SLA timers at scale: 1,000,000 pending obligations, one ticker worker with its outbox
relay to the embedded broker, and a SIGKILL of that worker in the middle of the breaches.

Every obligation due during the run has a warning (80 %) and a breach, both to fire from
the store. Lateness is from the moment a warning or breach was due to the moment its event
is visible committed in the store (observed by polling every 50 ms, so a figure includes up
to 50 ms of observation). After the run every due obligation is checked to have exactly one
SlaWarning and one SlaBreached. Recovery is the time from starting a new worker after the
kill until every breach that came due while it was down has fired.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import time
from datetime import datetime, timedelta, timezone

from estatedesk.clock import system_clock
from estatedesk.contracts import BILLING_EVENTS, CASE_EVENTS, SLA_EVENTS
from estatedesk.eventstore import create_pool
from estatedesk.eventstore.relay import OutboxRelay
from estatedesk.messaging.kafka import KafkaPublisher
from services.sla.domain.clocks import Clock, SlaCase, dump
from services.sla.ticker import run_ticker

from .infra import embedded

PENDING = 1_000_000
DUE_DURING_RUN = 20_000
TARGET = timedelta(minutes=5)  # engineering_notified: warning at 4 min, breach at 5 min
WARNINGS_FROM_S, BREACHES_FROM_S, SPREAD_S = 5, 65, 40
KILL_AT_S, DOWN_S = 85, 5
TICK_S = 0.2
POLL_S = 0.05
CASE = {"type": "repair", "category": "plumbing", "repair": {"scope": "in_home"}}


def _row(case_id: str, received: datetime) -> tuple:
    case = {**CASE, "received_at": received.isoformat()}
    clock = Clock(f"{case_id}/engineering_notified/1", "engineering_notified", received)
    state = dump(SlaCase(case_id, case, (clock,), {"engineering_notified": 1}))
    return case_id, "E001", json.dumps(state), received + TARGET * 0.8


async def _copy(pool, rows) -> None:
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("sla_cases", records=rows,
                                         columns=["case_id", "estate_id", "state", "next_due_at"])


async def _load_pending(pool) -> None:
    now = datetime.now(timezone.utc)
    for first in range(DUE_DURING_RUN, PENDING, 100_000):  # due in the coming month
        await _copy(pool, [_row(f"B-{i}", now + timedelta(days=1 + i % 30))
                           for i in range(first, min(first + 100_000, PENDING))])


async def _load_due(pool, start: datetime) -> None:
    # warnings due WARNINGS_FROM_S … +SPREAD_S after the start, their breaches a minute later
    await _copy(pool, [_row(f"S-{i}", start - TARGET * 0.8 + timedelta(
        seconds=WARNINGS_FROM_S + SPREAD_S * i / DUE_DURING_RUN)) for i in range(DUE_DURING_RUN)])
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE sla_cases")


def _worker(url: str, bootstrap: str) -> None:
    """One SLA worker as the service runs it: the ticker and the outbox relay."""
    async def main() -> None:
        pool = await create_pool(url, max_size=4)
        publisher = KafkaPublisher(bootstrap)
        relay = OutboxRelay(url, publisher, (CASE_EVENTS, SLA_EVENTS, BILLING_EVENTS))
        stop = asyncio.Event()
        await asyncio.gather(run_ticker(pool, system_clock, TICK_S, stop), relay.run(stop))
    asyncio.run(main())


class Observer:
    """When each warning and breach became visible in the store."""

    def __init__(self, pool):
        self.pool, self.after, self.seen = pool, 0, []  # (event_type, obligation, due, seen_at)

    async def poll(self) -> None:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT position, event_type, payload->>'obligation_id' AS obligation,"
                " (payload->>'due_at')::timestamptz AS due FROM events WHERE position > $1"
                " AND event_type IN ('SlaWarning', 'SlaBreached') ORDER BY position", self.after)
        now = datetime.now(timezone.utc)
        for r in rows:
            due = r["due"] - TARGET * 0.2 if r["event_type"] == "SlaWarning" else r["due"]
            self.seen.append((r["event_type"], r["obligation"], due, now))
            self.after = r["position"]

    def count(self, kind: str) -> int:
        return sum(1 for s in self.seen if s[0] == kind)


def _breaches_due_by(start: datetime, moment: datetime) -> int:
    return sum(1 for i in range(DUE_DURING_RUN)
               if start + timedelta(seconds=BREACHES_FROM_S + SPREAD_S * i / DUE_DURING_RUN) <= moment)


def _quantiles(values: list[float]) -> str:
    values = sorted(values)
    q = statistics.quantiles(values, n=100)
    return f"p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms"


async def run(url: str, bootstrap: str) -> None:
    pool = await create_pool(url, max_size=4)
    loading = time.perf_counter()
    await _load_pending(pool)
    start = datetime.now(timezone.utc) + timedelta(seconds=3)
    await _load_due(pool, start)
    print(f"sla timers: {PENDING:,} pending loaded in {time.perf_counter() - loading:.1f} s")
    while datetime.now(timezone.utc) < start:
        await asyncio.sleep(0.1)  # waiting for the planned start, not for a result
    context = multiprocessing.get_context("spawn")
    worker = context.Process(target=_worker, args=(url, bootstrap), daemon=True)
    worker.start()
    observer = Observer(pool)
    killed_at = restarted_at = caught_up_at = None
    while True:
        await observer.poll()
        elapsed = (datetime.now(timezone.utc) - start).total_seconds()
        if killed_at is None and elapsed >= KILL_AT_S:
            worker.kill()  # SIGKILL, in the middle of the breaches
            worker.join()
            killed_at = datetime.now(timezone.utc)
        if killed_at and restarted_at is None and elapsed >= KILL_AT_S + DOWN_S:
            restarted_at = datetime.now(timezone.utc)
            worker = context.Process(target=_worker, args=(url, bootstrap), daemon=True)
            worker.start()
        if restarted_at and caught_up_at is None and sum(
                1 for kind, _, due, _ in observer.seen if kind == "SlaBreached" and due <= restarted_at
        ) >= _breaches_due_by(start, restarted_at):
            caught_up_at = datetime.now(timezone.utc)
        if observer.count("SlaBreached") >= DUE_DURING_RUN and observer.count("SlaWarning") >= DUE_DURING_RUN:
            break
        if elapsed > BREACHES_FROM_S + SPREAD_S + 120:
            break  # give up: the checks below say what did not fire
        await asyncio.sleep(POLL_S)
    worker.kill()
    worker.join()

    async with pool.acquire() as conn:
        per_obligation = await conn.fetch(
            "SELECT event_type, payload->>'obligation_id' AS obligation, count(*) AS n FROM events"
            " WHERE event_type IN ('SlaWarning', 'SlaBreached') GROUP BY 1, 2")
    counts = {(r["event_type"], r["obligation"]): r["n"] for r in per_obligation}
    expected = {(kind, f"S-{i}/engineering_notified/1") for kind in ("SlaWarning", "SlaBreached")
                for i in range(DUE_DURING_RUN)}
    missing = len(expected - counts.keys())
    twice = sum(1 for n in counts.values() if n > 1)
    stray = len(counts.keys() - expected)
    window = (killed_at - timedelta(seconds=1), caught_up_at or datetime.max.replace(tzinfo=timezone.utc)) \
        if killed_at else None
    steady = [(seen - due).total_seconds() for _, _, due, seen in observer.seen
              if window is None or not window[0] <= due <= window[1]]
    print(f"sla timers: {DUE_DURING_RUN:,} obligations due during the run beside {PENDING - DUE_DURING_RUN:,} "
          f"pending; fired {observer.count('SlaWarning'):,} warnings and {observer.count('SlaBreached'):,} breaches; "
          f"missing {missing}, fired twice {twice}, fired early or stray {stray}")
    print(f"sla timers: lateness due → committed, outside the kill window: {_quantiles(steady)} "
          f"(tick {TICK_S * 1000:.0f} ms, observed every {POLL_S * 1000:.0f} ms)")
    if caught_up_at and restarted_at and killed_at:
        backlog = sum(1 for kind, _, due, _ in observer.seen if kind == "SlaBreached" and killed_at <= due <= restarted_at)
        print(f"sla timers: worker SIGKILLed, down {DOWN_S} s; the new worker fired the {backlog:,} breaches due "
              f"meanwhile within {(caught_up_at - restarted_at).total_seconds():.1f} s of its start "
              f"(process start, connect and catch-up)")
    else:
        print("sla timers: the restarted worker did not catch up within the run")
    await pool.close()


def main() -> None:
    with embedded(with_broker=True) as (url, bootstrap):
        asyncio.run(run(url, bootstrap))


if __name__ == "__main__":
    main()
