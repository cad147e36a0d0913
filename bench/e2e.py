"""What users feel, end to end: `estatedesk dev` as `make dev` runs it, everything on this machine.

Reports, in one run on a fresh stack:
- intake's accept rate for N mixed cases (repairs, complaints, help, consultations) posted by
  C concurrent clients, beside a bare FastAPI + pydantic + one INSERT route (`bench.bare_route`)
  on the same PostgreSQL hit by the same client, and their ratio;
- end-to-end cases/s: from the first post until every case is projected — dispatched, every
  consumer (dispatch, SLA, analytics) past each of its events, the case view dispatched;
- CPU-seconds per case of each process (broker, PostgreSQL, each service, the dev command);
- latency at low load: POST → the dispatched case view on analytics, p50/p99 at R cases/s;
- the idle CPU of the whole stack over S seconds.

    python -m bench.e2e [--cases 2000] [--clients 16] [--rate 10] [--latency-s 30] [--idle-s 30]
                        [--set VARIABLE=VALUE ...]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from bench.faults import TICKS, DevStack, _children, _cpu_ticks, _until
from estatedesk.auth import issue_token, now_utc
from estatedesk.config import DEV_SECRET
from estatedesk.contracts.topology import notified_event_types
from estatedesk.eventstore.lag import UNAPPLIED
from estatedesk.infra.embedded import free_port

CONSUMERS = {"dispatch": "dispatch", "sla": "sla", "analytics": "analytics.case_views"}
_MIX = (
    ("repair", "plumbing", {"repair": {"scope": "in_home", "in_warranty": None}}),
    ("repair", "lighting", {"repair": {"scope": "public_area", "in_warranty": None}}),
    ("complaint", "noise", {"complaint": {"origin": "resident"}}),
    ("help", "other", {"help": {"serious": False, "paid": False}}),
    ("consultation", "fees", {}),
)


def mixed_case(n: int, run: str) -> dict:
    kind, category, block = _MIX[n % len(_MIX)]
    return {"estate_id": "E001", "type": kind, "category": category, "channel": "phone",
            "title": f"e2e {run} {n}", "location": {"building": "3", "unit": "2", "room": str(1000 + n % 900)},
            # one household per case: a second complaint of a household would be a repeat complaint
            "reporter": {"name": "王女士", "phone": "13812345678", "household_id": f"H-{run}-{n}"}, **block}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Cpu:
    """CPU ticks per part of the stack; PostgreSQL's include its backends, live and reaped."""

    def __init__(self, stack: DevStack):
        self.stack = stack

    def read(self) -> dict[str, float]:
        parts = self.stack.pids()
        seconds = {name: _cpu_ticks(pid) / TICKS for name, pid in parts.items() if name != "PostgreSQL"}
        postmaster = parts.get("PostgreSQL")
        if postmaster:
            seconds["PostgreSQL"] = (_reaped_ticks(postmaster) + sum(
                _cpu_ticks(pid) for pid in [postmaster, *_children(postmaster)])) / TICKS
        seconds["dev command"] = _cpu_ticks(self.stack.process.pid) / TICKS
        return seconds


def _reaped_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[13]) + int(fields[14])


async def _post_all(url: str, bodies: list[dict], clients: int, headers: dict) -> tuple[float, list[str]]:
    """Post every body with `clients` concurrent clients; (seconds taken, case ids)."""
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    ids: list[str] = []

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            answer = await client.post(url, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
            if answer.status_code != 201:
                raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:300]}")
            ids.append(answer.json()["case_id"])

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        began = time.monotonic()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        return time.monotonic() - began, ids


async def _projected(conn: asyncpg.Connection, case_ids: list[str]) -> bool:
    for service, consumer in CONSUMERS.items():
        if await conn.fetchval(f"SELECT count(*) {UNAPPLIED} AND e.case_id = ANY($3)",
                               consumer, list(notified_event_types(service)), case_ids):
            return False
    dispatched = await conn.fetchval("SELECT count(*) FROM case_views WHERE case_id = ANY($1)"
                                     " AND departments <> '{}'", case_ids)
    return dispatched == len(case_ids)


async def _dispatched_view(client: httpx.AsyncClient, analytics: str, case_id: str, headers: dict) -> bool:
    answer = await client.get(f"{analytics}/v1/cases/{case_id}", headers=headers)
    return answer.status_code == 200 and bool(answer.json().get("departments"))


async def _latency(stack: DevStack, rate: float, seconds: float, headers: dict, run: str) -> list[float]:
    """Cases at a steady `rate`; each one's time from POST to its dispatched view on analytics."""
    latencies: list[float] = []

    async def one(client: httpx.AsyncClient, n: int) -> None:
        began = time.monotonic()
        answer = await client.post(f"{stack.url('intake')}/v1/cases", json=mixed_case(n, run),
                                   headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
        case_id = answer.json()["case_id"]
        while not await _dispatched_view(client, stack.url("analytics"), case_id, headers):
            if time.monotonic() - began > 30:
                raise RuntimeError(f"case {case_id} not dispatched within 30 s")
            await asyncio.sleep(0.005)  # poll
        latencies.append(time.monotonic() - began)

    async with httpx.AsyncClient(timeout=30) as client:
        tasks, began = [], time.monotonic()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, began + n / rate - time.monotonic()))  # the steady rate
            tasks.append(asyncio.create_task(one(client, n)))
        await asyncio.gather(*tasks)
    return latencies


async def _idle(cpu: Cpu, seconds: float) -> tuple[float, dict[str, float]]:
    before, began = cpu.read(), time.monotonic()
    await asyncio.sleep(seconds)  # measuring over an interval
    after, spent = cpu.read(), time.monotonic() - began
    per_part = {name: (after[name] - before.get(name, 0.0)) / spent for name in after}
    return sum(per_part.values()), per_part


async def run(stack: DevStack, args: argparse.Namespace) -> None:
    token = issue_token(DEV_SECRET, role="front_desk", estates=["E001"], user="e2e-bench", now=now_utc())
    headers = {"Authorization": f"Bearer {token}"}
    run_id = uuid.uuid4().hex[:6]
    cpu = Cpu(stack)
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, "-m", "bench.bare_route", "--port", str(bare_port),
                             "--dsn", stack.database_url])
    try:
        async with httpx.AsyncClient() as client:
            async def bare_ready() -> bool:
                try:
                    return (await client.get(f"http://127.0.0.1:{bare_port}/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False
            await _until(bare_ready, 60, "the bare route")

        # warm both: connections, pools, code paths
        await _post_all(f"{stack.url('intake')}/v1/cases", [mixed_case(n, f"warm{run_id}") for n in range(50)],
                        args.clients, headers)
        await _post_all(f"http://127.0.0.1:{bare_port}/v1/cases", [mixed_case(n, "warm") for n in range(50)],
                        args.clients, {})
        conn = await asyncpg.connect(stack.database_url)
        try:
            bodies = [mixed_case(n, run_id) for n in range(args.cases)]
            bare_s, _ = await _post_all(f"http://127.0.0.1:{bare_port}/v1/cases", bodies, args.clients, {})
            await _until(lambda: _projected(conn, []), 60, "a quiet stack")  # nothing of the warm-up left
            before = cpu.read()
            began = time.monotonic()
            intake_s, case_ids = await _post_all(f"{stack.url('intake')}/v1/cases", bodies, args.clients, headers)
            await _until(lambda: _projected(conn, case_ids), 600, "every case projected")
            e2e_s = time.monotonic() - began
            spent = {name: seconds - before.get(name, 0.0) for name, seconds in cpu.read().items()}
        finally:
            await conn.close()
    finally:
        bare.terminate()
        bare.wait(10)

    print(f"\n{args.cases} mixed cases, {args.clients} concurrent clients")
    print(f"  bare FastAPI + pydantic + INSERT route: {args.cases / bare_s:7.1f} cases/s")
    print(f"  intake accept rate:                     {args.cases / intake_s:7.1f} cases/s"
          f"  ({bare_s / intake_s:.0%} of the bare route)")
    print(f"  end to end (every case projected):      {args.cases / e2e_s:7.1f} cases/s ({e2e_s:.1f} s)")
    total = sum(spent.values())
    print(f"  CPU per case: {1000 * total / args.cases:.1f} ms in all")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"    {name:<12} {1000 * seconds / args.cases:6.2f} ms  ({seconds:.1f} CPU-s)")

    latencies = await _latency(stack, args.rate, args.latency_s, headers, f"lat{run_id}")
    print(f"\nlatency POST → dispatched view at {args.rate:g} cases/s, {len(latencies)} cases:"
          f" p50 {1000 * statistics.median(latencies):.0f} ms, p99 {1000 * _percentile(latencies, 0.99):.0f} ms,"
          f" max {1000 * max(latencies):.0f} ms")

    await asyncio.sleep(5)  # let the latency run's last clocks and sweeps settle before measuring idle
    share, per_part = await _idle(cpu, args.idle_s)
    print(f"\nidle CPU of the stack over {args.idle_s:g} s: {share:.1%} of one core")
    for name, part in sorted(per_part.items(), key=lambda item: -item[1]):
        print(f"    {name:<12} {part:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--latency-s", type=float, default=30.0)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--set", action="append", default=[], metavar="VARIABLE=VALUE",
                        help="a setting for the stack, e.g. ESTATEDESK_QUIET_FETCH_WAIT_MS=500")
    args = parser.parse_args()
    stack = DevStack.fresh()
    stack.settings = dict(item.split("=", 1) for item in args.set)
    try:
        stack.start()
        asyncio.run(run(stack, args))
    finally:
        stack.interrupt()
        stack.remove()


if __name__ == "__main__":
    main()
