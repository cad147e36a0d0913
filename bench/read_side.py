"""The read side at group scale: the monthly statistics with 1,000,000 cases in the month and
the live dashboard with 100,000 open cases.

Writes a month of 1,000,000 case views for 50 estates (and 100,000 in the month before) the
way the projection writes them — the view rows, and their tallies through
`month_tallies.record` in batches, as a rebuild does — then times `stats.monthly` (what
`GET /v1/stats/monthly` serves) for one estate and group-wide, and `boards.dashboard` for one
estate and group-wide, median of 5 runs each. Before timing, it checks that one estate's served
figures equal the fold of that estate's views (`month_report.figures`).

    python -m bench.read_side [CASES]
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from estatedesk.eventstore import create_pool
from services.analytics import boards, month_tallies, stats
from services.analytics.projection import view_row
from services.analytics.domain.month_report import figures

from .infra import run_on_embedded

CASES = 1_000_000
OPEN_SHARE = 0.1
ESTATES = [f"E{i:03d}" for i in range(1, 51)]
MONTH, PREVIOUS = "2026-10", "2026-09"
TYPES = {"repair": ["plumbing", "lighting", "lift", "door"], "complaint": ["noise", "parking", "cleaning"],
         "help": ["other"], "consultation": ["fees", "rules"]}
CHANNELS = ["phone", "walk_in", "app", "wechat"]
DEPARTMENTS = ["engineering", "customer_service", "security", "cleaning", "greening"]
RULES = ["engineering_notified", "repair_accepted", "complaint_completed", "visit_due"]
OPEN_STATUSES = ["dispatched", "accepted", "in_progress", "paused", "completed", "inspected"]
COLUMNS = ["case_id", "estate_id", "type", "status", "departments", "breached", "received_at", "view", "updated_at",
           "assignee", "coordinator", "household_id", "next_due_at", "mailbox", "unsettled_due_at"]
RUNS = 5
BATCH = 20_000


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _view(rng: random.Random, n: int, month_start: datetime, now: datetime) -> dict:
    estate = ESTATES[n % len(ESTATES)]
    kind = rng.choice(list(TYPES))
    received = month_start + timedelta(seconds=rng.randrange(29 * 86400))
    is_open = rng.random() < OPEN_SHARE
    status = rng.choice(OPEN_STATUSES) if is_open else rng.choice(["archived", "archived", "archived", "cancelled"])
    responded = received + timedelta(seconds=rng.randrange(30, 4 * 3600)) if rng.random() < 0.95 else None
    completed = received + timedelta(seconds=rng.randrange(600, 5 * 86400)) \
        if status in ("completed", "inspected", "archived") and kind != "consultation" else None
    closed = completed + timedelta(hours=2) if completed and status == "archived" else \
        received + timedelta(hours=1) if status in ("archived", "cancelled") else None
    deadlines = []
    for rule in rng.sample(RULES, rng.randrange(1, 3)):
        due = (now + timedelta(minutes=rng.randrange(-60, 600))) if is_open else received + timedelta(hours=4)
        settled = rng.random()
        deadlines.append({"rule": rule, "due_at": _at(due), "paused": [],
                          "met_at": _at(received + timedelta(hours=1)) if settled < 0.5 else None,
                          "breached": 0.5 <= settled < 0.6})
    visits = [{"satisfaction": rng.choice(["satisfied", "satisfied", "neutral", "dissatisfied"])}] \
        if completed and rng.random() < 0.7 else []
    return {"case_id": f"C-{n:09d}", "estate_id": estate, "type": kind, "category": rng.choice(TYPES[kind]),
            "channel": rng.choice(CHANNELS), "status": status, "departments": [rng.choice(DEPARTMENTS)],
            "title": f"case {n}", "received_at": _at(received),
            "first_response_at": _at(responded) if responded else None,
            "completed_at": _at(completed) if completed else None, "closed_at": _at(closed) if closed else None,
            "deadlines": deadlines, "escalations": [{"level": 1}] if rng.random() < 0.05 else [],
            "return_visits": visits, "visit_attempts": [], "repeat_of": None, "assignee": None,
            "coordinator": None, "reporter": {"household_id": f"H-{estate}-{n % 4000}"},
            "charges": [{"total_fen": 5000}] if kind == "repair" and rng.random() < 0.2 else [],
            "location": {"building": str(rng.randrange(1, 30)), "area": None}, "mailbox": []}


async def _fill(pool, cases: int, now: datetime) -> None:
    rng = random.Random(7)
    began = time.perf_counter()
    months = ((datetime(2026, 10, 1, tzinfo=timezone(timedelta(hours=8))), cases),
              (datetime(2026, 9, 1, tzinfo=timezone(timedelta(hours=8))), cases // 10))
    first = 0
    for month_start, count in months:
        for batch in range(first, first + count, BATCH):
            views = [_view(rng, n, month_start, now) for n in range(batch, min(batch + BATCH, first + count))]
            async with pool.acquire() as conn, conn.transaction():
                rows = [view_row(v, datetime.fromisoformat(v["received_at"])) for v in views]
                await conn.copy_records_to_table("case_views", records=rows,
                                                 columns=COLUMNS)
                await month_tallies.record(conn, [(None, v) for v in views])
        first += count
    async with pool.acquire() as conn:
        await conn.execute("VACUUM ANALYZE case_views")
        await conn.execute("VACUUM ANALYZE month_counts")
        await conn.execute("VACUUM ANALYZE month_durations")
        open_cases = await conn.fetchval(f"SELECT count(*) FROM case_views WHERE {boards.OPEN}")
    print(f"read side: wrote {first:,} case views ({open_cases:,} open) and their tallies"
          f" in {time.perf_counter() - began:.0f} s")


async def _check_one_estate(pool) -> None:
    async with pool.acquire() as conn:
        start, end = stats.month_bounds(MONTH)
        rows = await conn.fetch("SELECT view FROM case_views WHERE estate_id = 'E007' AND received_at >= $1"
                                " AND received_at < $2", start, end)
        served = await month_tallies.counted_month(conn, MONTH, "E007")
    folded = figures(json.loads(r["view"]) for r in rows)
    assert served == folded, [k for k in folded if served.get(k) != folded[k]]
    print(f"read side: E007's served figures equal the fold of its {len(rows):,} views")


async def _median_ms(work) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def run(url: str, cases: int = CASES) -> None:
    pool = await create_pool(url, max_size=2)
    now = datetime(2026, 10, 30, 10, tzinfo=timezone.utc)
    day_start = now.replace(hour=0)
    try:
        await _fill(pool, cases, now)
        await _check_one_estate(pool)
        for name, work, bound in (
                ("monthly stats, one estate", lambda: stats.monthly(pool, MONTH, "E007"), 200),
                ("monthly stats, group-wide", lambda: stats.monthly(pool, MONTH, None), 1000),
                ("dashboard, one estate", lambda: boards.dashboard(pool, "E007", now, day_start), 200),
                ("dashboard, group-wide", lambda: boards.dashboard(pool, None, now, day_start), 200)):
            ms = await _median_ms(work)
            print(f"read side: {name:<28} {ms:7.1f} ms (target < {bound} ms)")
    finally:
        await pool.close()


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else CASES  # python -m bench.read_side [CASES]
    run_on_embedded(lambda url: run(url, cases))


if __name__ == "__main__":
    main()
