"""Queue filters of `GET /v1/cases` at 1,000,000 case views: each filter's query plan and time.

Writes a million views straight into `case_views` (the columns lists filter on, a small view
document), then runs the very SELECT the API builds (`projection.list_query`) for every
filter with EXPLAIN ANALYZE, and prints the plan's access path and the median of 5 runs.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from estatedesk.eventstore import create_pool
from services.analytics.domain.search import grams
from services.analytics.projection import CaseFilter, list_query

from .infra import run_on_embedded

CASES = 1_000_000
ESTATES = [f"E{i:03d}" for i in range(1, 51)]
PROBLEMS = ["卫生间漏水", "电梯故障停运", "楼上噪音扰民", "停车位被占用", "路灯不亮", "垃圾未清运", "门禁卡失灵",
            "Kitchen pipe leaking", "Lift stuck", "Broken window", "草坪需要修剪", "外墙渗水"]
PLACES = ["楼道", "地下车库", "北门", "2号楼", "花园", "大堂", "lobby", "car park"]
STATUSES = ["received", "dispatched", "accepted", "in_progress", "paused", "completed", "inspected", "reviewed",
            "visited", "archived", "archived", "archived", "cancelled"]
DEPARTMENTS = ["engineering", "customer_service", "security", "cleaning", "greening"]
COLUMNS = ["case_id", "estate_id", "type", "status", "departments", "breached", "received_at", "view", "updated_at",
           "assignee", "coordinator", "household_id", "next_due_at"]
RUNS = 5


def _row(rng: random.Random, n: int, start: datetime) -> tuple:
    estate = ESTATES[n % len(ESTATES)]
    title = f"{rng.choice(PROBLEMS)} {rng.choice(PLACES)}"
    description = f"{rng.choice(PLACES)}{rng.choice(PROBLEMS)}，请尽快处理 #{n}"
    received = start + timedelta(seconds=rng.randrange(180 * 86400))
    status = rng.choice(STATUSES)
    closed = status in ("archived", "cancelled")
    view = {"case_id": f"C-{n:09d}", "estate_id": estate, "title": title, "description": description,
            "received_at": received.isoformat()}
    return (f"C-{n:09d}", estate, rng.choice(["repair", "complaint", "help", "consultation"]), status,
            [rng.choice(DEPARTMENTS)], rng.random() < 0.08, received, json.dumps(view, ensure_ascii=False), received,
            f"{estate.lower()}-staff-{rng.randrange(40)}", f"{estate.lower()}-butler-{rng.randrange(4)}",
            f"H-{estate}-{rng.randrange(4000)}", None if closed else received + timedelta(hours=rng.randrange(1, 72))
            ), (f"C-{n:09d}", estate, grams(f"{title} {description}"))


async def _fill(pool, cases: int) -> None:
    rng = random.Random(5)
    start = datetime(2026, 6, 1, tzinfo=timezone.utc)
    began = time.perf_counter()
    async with pool.acquire() as conn:  # a bulk load builds its GIN indexes once, afterwards
        await conn.execute("DROP INDEX case_search_grams, case_views_departments")
    for batch in range(0, cases, 50_000):
        rows = [_row(rng, n, start) for n in range(batch, min(batch + 50_000, cases))]
        async with pool.acquire() as conn:
            await conn.copy_records_to_table("case_views", records=[view for view, _ in rows], columns=COLUMNS)
            await conn.copy_records_to_table("case_search", records=[text for _, text in rows],
                                             columns=["case_id", "estate_id", "grams"])
    async with pool.acquire() as conn:
        await conn.execute("CREATE INDEX case_views_departments ON case_views USING gin (departments)")
        await conn.execute("CREATE INDEX case_search_grams ON case_search USING gin (estate_id, grams)")
        await conn.execute("ANALYZE case_views")
        await conn.execute("ANALYZE case_search")
    print(f"queues: wrote {cases:,} case views in {time.perf_counter() - began:.0f} s")


FILTERS = {
    "estate + status": CaseFilter(estates=["E007"], status="in_progress"),
    "estate + department": CaseFilter(estates=["E007"], department="cleaning"),
    "estate + breached": CaseFilter(estates=["E007"], breached=True),
    "assignee": CaseFilter(estates=["E007"], assignee="e007-staff-3"),
    "coordinator": CaseFilter(estates=["E007"], coordinator="e007-butler-1"),
    "household_id": CaseFilter(estates=["E007"], household_id="H-E007-1234"),
    "due_before (next 2 h)": CaseFilter(estates=["E007"], due_before=datetime(2026, 6, 3, tzinfo=timezone.utc)),
    "q=漏水 (2 characters)": CaseFilter(estates=["E007"], text="漏水"),
    "q=电梯故障停运": CaseFilter(estates=["E007"], text="电梯故障停运"),
    "q=pipe": CaseFilter(estates=["E007"], text="pipe"),
    "mine (user + 2 departments)": CaseFilter(estates=["E007"], mine=("e007-staff-3", ["greening", "security"])),
    "group-wide, q=外墙渗水": CaseFilter(estates=None, text="外墙渗水"),
}


async def _measure(pool) -> None:
    async with pool.acquire() as conn:
        for name, case_filter in FILTERS.items():
            query, args = list_query(case_filter, 50, None)
            timings, plan = [], []
            for _ in range(RUNS):
                started = time.perf_counter()
                plan = [r[0] for r in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {query}", *args)]
                timings.append((time.perf_counter() - started) * 1000)
            rows = await conn.fetch(query, *args)
            access = [line.strip() for line in plan if "Scan" in line or "Bitmap" in line]
            print(f"queues: {name:<30} {statistics.median(timings):7.1f} ms  {len(rows):>3} rows  "
                  f"{' | '.join(a.split('  (')[0] for a in access[:3])}")


async def run(url: str, cases: int = CASES) -> None:
    pool = await create_pool(url, max_size=2)
    try:
        await _fill(pool, cases)
        await _measure(pool)
    finally:
        await pool.close()


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else CASES  # python -m bench.queues [CASES]
    run_on_embedded(lambda url: run(url, cases))


if __name__ == "__main__":
    main()
