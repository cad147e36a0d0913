"""A `make dev` stack left running under load: does the broker's memory stay bounded, and does a
single case stay as fast at the end as at the start?

Runs the embedded stack as `estatedesk dev` does, broker trim on, posts repair cases to intake at
`--rate` per second, and once every `--probe-every` seconds times one more case from its POST to
the moment analytics shows it dispatched (`GET /v1/cases/{id}` polled every 10 ms). Prints a line
a minute, then the probes' p50/p99 and the broker's memory over the first and the last minute,
every trim, and the cases each consumer's store sweep caught up (compare with a run of
`--retention-s 0`: a trim that lost messages would add to them).

    python -m bench.soak --minutes 60 --rate 15
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

from estatedesk.auth import issue_token
from estatedesk.clock import system_clock
from estatedesk.config import Settings
from estatedesk.demo import seed_demo
from estatedesk.eventstore import EventStore, create_pool
from estatedesk.infra.embedded import free_port, remove_tree
from estatedesk.infra.stack import SERVICES, Stack
from tests.broker import sweep_recovered

CASE = {
    "estate_id": "E001", "type": "repair", "category": "plumbing", "channel": "phone",
    "title": "Kitchen pipe leaking", "location": {"building": "3", "unit": "2", "room": "1502"},
    "reporter": {"name": "王女士", "phone": "13812345678", "household_id": "H-3-2-1502"},
    "repair": {"scope": "in_home", "in_warranty": None},
}
OBSERVE_S = 0.01
PROBE_TIMEOUT_S = 60.0
MB = 1024 * 1024


@dataclass
class Minute:
    probes_ms: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    posted: int = 0
    refused: int = 0


def _quantiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"{len(values)} probe(s): {', '.join(f'{v:.0f} ms' for v in values) or '-'}"
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, max {max(values):.0f} ms ({len(values)} probes)"


async def _post(client: httpx.AsyncClient, intake: str) -> str | None:
    answer = await client.post(f"{intake}/v1/cases", json=CASE, headers={"Idempotency-Key": str(uuid.uuid4())})
    return answer.json()["case_id"] if answer.status_code == 201 else None


async def _load(client, intake, rate: float, until: float, minutes: list[Minute], began: float) -> None:
    pending: set[asyncio.Task] = set()

    async def one(minute: Minute) -> None:
        try:
            posted = await _post(client, intake)
        except httpx.HTTPError:
            posted = None
        if posted:
            minute.posted += 1
        else:
            minute.refused += 1

    next_at = time.monotonic()
    while next_at < until:
        task = asyncio.create_task(one(minutes[int((next_at - began) // 60)]))
        pending.add(task)
        task.add_done_callback(pending.discard)
        next_at += 1 / rate
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))  # pacing the load, not waiting for a result
    await asyncio.gather(*pending)


async def _probe(client, intake: str, analytics: str) -> float:
    began = time.perf_counter()
    case_id = await _post(client, intake)
    if case_id is None:
        raise RuntimeError("intake refused a probe case")
    while time.perf_counter() - began < PROBE_TIMEOUT_S:
        view = await client.get(f"{analytics}/v1/cases/{case_id}")
        if view.status_code == 200 and view.json().get("status") == "dispatched":
            return (time.perf_counter() - began) * 1000
        await asyncio.sleep(OBSERVE_S)  # poll
    raise RuntimeError(f"probe {case_id} not dispatched within {PROBE_TIMEOUT_S} s")


async def _probes(client, stack: Stack, every_s: float, until: float, minutes: list[Minute], began: float) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        minute = minutes[int((started - began) // 60)]
        minute.probes_ms.append(await _probe(client, stack.url("intake"), stack.url("analytics")))
        minute.rss.append(stack.broker.rss_bytes())
        await asyncio.sleep(max(0.0, started + every_s - time.monotonic()))  # the probe cadence


def _trims(stack: Stack) -> list:
    return stack.broker_trim.trims if stack.broker_trim else []


async def _report_minutes(stack: Stack, until: float, minutes: list[Minute], began: float) -> None:
    shown = 0
    while shown < len(minutes):
        await asyncio.sleep(max(0.0, began + 60 * (shown + 1) - time.monotonic()))  # once a minute
        m = minutes[shown]
        trims = len(_trims(stack))
        print(f"minute {shown + 1:>3}: posted {m.posted}, refused {m.refused}; probes {_quantiles(m.probes_ms)}; "
              f"broker {stack.broker.rss_bytes() / MB:.0f} MB; trims so far {trims}", flush=True)
        shown += 1


async def _seed(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        await seed_demo(EventStore(pool), system_clock)
    finally:
        await pool.close()


async def soak(stack: Stack, minutes_n: int, rate: float, probe_every_s: float) -> None:
    token = issue_token(stack.settings.estatedesk_secret, role="front_desk", estates=["E001"], user="soak",
                        now=datetime.now(timezone.utc))
    minutes = [Minute() for _ in range(minutes_n + 1)]
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30,
                                 limits=httpx.Limits(max_connections=50)) as client:
        began = time.monotonic()
        until = began + 60 * minutes_n
        await asyncio.gather(_load(client, stack.url("intake"), rate, until, minutes, began),
                             _probes(client, stack, probe_every_s, until, minutes, began),
                             _report_minutes(stack, until, minutes[:minutes_n], began))
    first, last = minutes[0], minutes[minutes_n - 1]
    print()
    print(f"soak: {minutes_n} min at {rate:g} cases/s, a probe every {probe_every_s:g} s, "
          f"broker retention {stack.settings.estatedesk_broker_retention_s:g} s / "
          f"{stack.settings.estatedesk_broker_max_messages:,} messages")
    for label, m in (("first minute", first), ("last minute", last)):
        rss = f"{min(m.rss) / MB:.0f}–{max(m.rss) / MB:.0f} MB" if m.rss else "-"
        print(f"  {label:<12}: probes {_quantiles(m.probes_ms)}; broker RSS {rss}")
    every = [p for m in minutes for p in m.probes_ms]
    print(f"  all probes  : {_quantiles(every)}; broker RSS peak {max(r for m in minutes for r in m.rss) / MB:.0f} MB")
    print(f"  posted {sum(m.posted for m in minutes):,} cases, refused {sum(m.refused for m in minutes)}")
    for trim in _trims(stack):
        at = datetime.fromtimestamp(trim.at, timezone.utc).strftime("%H:%M:%S")
        ends = {f"{t}/{p}": end for (t, p), end in sorted(trim.ends.items()) if end}
        behind = {f"{t}/{p}": group for (t, p), group in sorted(trim.held_back_by.items())}
        print(f"  trim at {at}: dropped {trim.dropped:,}, carried over {trim.carried}; ends {ends}; "
              f"held back by {behind or 'nobody'}")
    print(f"  cases the store sweeps caught up: {await sweep_recovered(stack)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rate", type=float, default=15.0, help="cases posted per second")
    parser.add_argument("--probe-every", type=float, default=2.0, help="seconds between latency probes")
    parser.add_argument("--retention-s", type=float, default=Settings().estatedesk_broker_retention_s,
                        help="ESTATEDESK_BROKER_RETENTION_S for the soak (0: no trim)")
    parser.add_argument("--max-messages", type=int, default=Settings().estatedesk_broker_max_messages)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="estatedesk-soak-"))
    ports = {f"{name}_port": free_port() for name in SERVICES}
    settings = Settings(database_url="", kafka_bootstrap_servers="", estatedesk_broker_port=free_port(),
                        estatedesk_postgres_port=free_port(), estatedesk_group_prefix=f"soak-{uuid.uuid4().hex[:6]}",
                        estatedesk_log_level="WARNING", estatedesk_broker_retention_s=args.retention_s,
                        estatedesk_broker_max_messages=args.max_messages, **ports)
    stack = Stack(settings, data, database_name="soak")
    try:
        stack.start_infrastructure()
        stack.prepare()
        asyncio.run(_seed(settings.database_url))
        stack.start_services()
        stack.start_broker_trim()
        asyncio.run(soak(stack, args.minutes, args.rate, args.probe_every))
    finally:
        stack.stop()
        remove_tree(data)


if __name__ == "__main__":
    main()
