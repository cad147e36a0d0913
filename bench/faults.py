"""The fault suite: `make dev`'s own command under load, each part killed in turn, nobody helping.

`estatedesk dev` runs on fresh ports and a fresh data directory, a load posts cases at a
steady rate, and one fault after another kills a part with SIGKILL: each service, the broker
(memory storage: it comes back empty) and PostgreSQL. Nothing is repaired by hand; the dev
command's supervision and the services themselves must recover. Per fault it reports how long
the part took to come back and how long after that a new case was dispatched and visible on
analytics again; at the end, how many acknowledged cases were lost or recorded twice, how many
messages were dead-lettered, the stack's idle CPU before and after, and whether Ctrl-C
stopped every process it started.

    python -m bench.faults [--rate 10] [--faults dispatch,broker,...]    (make faults)

`tests/integration/test_faults.py` runs a short version of it in `make test`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from estatedesk.auth import issue_token, now_utc
from estatedesk.config import DEV_SECRET
from estatedesk.infra.embedded import free_port, remove_tree

SERVICE_FAULTS = ("dispatch", "sla", "analytics", "intake", "console")
FAULTS = (*SERVICE_FAULTS, "broker", "PostgreSQL")
TICKS = os.sysconf("SC_CLK_TCK")
NORMAL_S = 2.0


def _case(n: int, run: str) -> dict:
    return {
        "estate_id": "E001", "type": "repair", "category": "plumbing", "channel": "phone",
        "title": f"Fault load {run} {n}", "location": {"building": "3", "unit": "2", "room": "1502"},
        "reporter": {"name": "王女士", "phone": "13812345678", "household_id": "H-3-2-1502"},
        "repair": {"scope": "in_home", "in_warranty": None},
    }


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode(errors="replace")
    except OSError:
        return ""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class DevStack:
    """`estatedesk dev` as a newcomer runs it, on ports and a directory of its own."""

    data_dir: Path
    ports: dict[str, int]
    process: subprocess.Popen | None = None
    settings: dict[str, str] = field(default_factory=dict)  # extra variables, e.g. to compare a setting

    @classmethod
    def fresh(cls) -> "DevStack":
        names = ("console", "intake", "dispatch", "sla", "analytics", "broker", "postgres")
        return cls(Path(tempfile.mkdtemp(prefix="estatedesk-faults-")), {n: free_port() for n in names})

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports['postgres']}/estatedesk"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ESTATEDESK_", "DATABASE_URL", "KAFKA_", "CONSOLE_"))
               and not k.endswith("_PORT")}
        env.update({f"{n.upper()}_PORT": str(p) for n, p in self.ports.items() if n not in ("broker", "postgres")})
        env.update({"ESTATEDESK_BROKER_PORT": str(self.ports["broker"]),
                    "ESTATEDESK_POSTGRES_PORT": str(self.ports["postgres"]),
                    "ESTATEDESK_DATA_DIR": str(self.data_dir), "ESTATEDESK_LOG_LEVEL": "WARNING",
                    "ESTATEDESK_GROUP_PREFIX": f"faults-{uuid.uuid4().hex[:6]}", **self.settings})
        return env

    def start(self, timeout: float = 180) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "estatedesk.cli", "dev"], env=self.env(),
            stdout=(self.data_dir / "dev.out").open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while b"Stop:" not in self.output().encode():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"estatedesk dev did not come up:\n{self.output()[-3000:]}")
            time.sleep(0.2)  # poll

    def output(self) -> str:
        try:
            return (self.data_dir / "dev.out").read_text(errors="replace")
        except OSError:
            return ""

    def pids(self) -> dict[str, int]:
        """The running parts: each service, the broker, the postmaster."""
        found = {}
        for pid in _children(self.process.pid):
            line = _cmdline(pid)
            for name in SERVICE_FAULTS:
                if f"-m services.{name}" in line:
                    found[name] = pid
            if " broker " in line and "--listener-url" in line:
                found["broker"] = pid
        try:
            found["PostgreSQL"] = int((self.data_dir / "pgdata" / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            pass
        return {name: pid for name, pid in found.items() if _running(pid)}

    def everything(self) -> list[int]:
        """Every process of the stack: the dev command, its children, the postmaster and its backends."""
        pids = [self.process.pid, *_children(self.process.pid)]
        postmaster = self.pids().get("PostgreSQL")
        if postmaster:
            pids += [postmaster, *_children(postmaster)]
        return pids

    def cpu_seconds(self) -> float:
        return sum(_cpu_ticks(pid) for pid in self.everything()) / TICKS

    def interrupt(self, timeout: float = 60) -> list[str]:
        """Ctrl-C, as a person would; returns what is still running afterwards."""
        started = [*self.pids().items()]
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10
        while any(_running(pid) for _, pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)  # poll
        left = [f"{name} (pid {pid})" for name, pid in started if _running(pid)]
        if self.process.poll() is None:
            left.append(f"estatedesk dev (pid {self.process.pid})")
        return left

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            for pid in self.everything():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        remove_tree(self.data_dir)


@dataclass
class FaultResult:
    fault: str
    back_s: float  # kill → the part running (and ready) again
    flowing_s: float  # part back → a case posted then is dispatched and visible on analytics
    normal_s: float  # kill → a case posted then is visible within NORMAL_S, as before the fault


@dataclass
class Report:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    dead_letters: int = 0
    server_errors: list[int] = field(default_factory=list)  # answers ≥ 500 other than 503 with Retry-After
    faults: list[FaultResult] = field(default_factory=list)
    idle_cpu_before: float = 0.0  # share of one core
    idle_cpu_after: float = 0.0
    left_running: list[str] = field(default_factory=list)
    demo_cases: int = -1
    demo_accounts: int = -1
    log_lines: dict[str, int] = field(default_factory=dict)  # service log -> lines written in the run

    def table(self) -> str:
        lines = [f"{'fault':<11} {'back after':>10} {'first case':>11} {'normal after':>13}", "-" * 48]
        lines += [f"{r.fault:<11} {r.back_s:>9.1f}s {r.flowing_s:>10.1f}s {r.normal_s:>12.1f}s" for r in self.faults]
        lines += ["(back after: kill → the part ready again; first case: back → a case posted then is "
                  f"dispatched on analytics; normal after: kill → a case posted then is there within {NORMAL_S:.0f} s)"]
        lines += ["", f"acknowledged {self.acknowledged}, lost {len(self.lost)}, duplicated {len(self.duplicated)}, "
                      f"dead letters {self.dead_letters}, server errors other than 503 {len(self.server_errors)}",
                  f"idle CPU of the whole stack: {self.idle_cpu_before:.1%} of a core before the faults, "
                  f"{self.idle_cpu_after:.1%} after",
                  "log lines: " + ", ".join(f"{name} {n}" for name, n in sorted(self.log_lines.items())),
                  "operator actions needed: none" if self.healed() else "operator actions needed: see above",
                  "Ctrl-C stopped everything" if not self.left_running
                  else f"still running after Ctrl-C: {', '.join(self.left_running)}"]
        return "\n".join(lines)

    def healed(self) -> bool:
        return not (self.lost or self.duplicated or self.dead_letters or self.server_errors)


class Load:
    """Posts cases at a steady rate; a case counts as acknowledged once intake answered 201.
    A failed post (503 while the database is away, a refused connection while intake restarts)
    is sent again with the same Idempotency-Key, as a careful client would."""

    def __init__(self, stack: DevStack, rate: float, run: str):
        self.stack, self.rate, self.run = stack, rate, run
        self.acknowledged: dict[str, str] = {}  # case id -> title
        self.posted = self.refusals = 0
        self.server_errors: list[int] = []
        token = issue_token(DEV_SECRET, role="front_desk", estates=["E001"], user="fault-load", now=now_utc())
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(self, client: httpx.AsyncClient) -> str:
        self.posted += 1
        body, key = _case(self.posted, self.run), str(uuid.uuid4())
        while True:
            try:
                answer = await client.post(f"{self.stack.url('intake')}/v1/cases", json=body,
                                           headers={**self.headers, "Idempotency-Key": key})
                if answer.status_code == 201:
                    case_id = answer.json()["case_id"]
                    self.acknowledged[case_id] = body["title"]
                    return case_id
                if answer.status_code < 500:
                    raise RuntimeError(f"intake refused a load case: {answer.status_code} {answer.text[:200]}")
                if answer.status_code != 503 or "Retry-After" not in answer.headers:
                    self.server_errors.append(answer.status_code)  # an outage must read as 503, retry later
            except httpx.HTTPError:
                pass
            self.refusals += 1
            await asyncio.sleep(0.2)  # a client's retry pause

    async def run_until(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            pending = set()
            while not stop.is_set():
                pending.add(asyncio.create_task(self.post(client)))
                pending = {t for t in pending if not t.done()}
                try:
                    await asyncio.wait_for(stop.wait(), 1 / self.rate)
                except asyncio.TimeoutError:
                    pass
            if pending:
                await asyncio.gather(*pending)

    async def visible(self, client: httpx.AsyncClient, case_id: str) -> bool:
        try:
            answer = await client.get(f"{self.stack.url('analytics')}/v1/cases/{case_id}", headers=self.headers)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and bool(answer.json().get("departments"))


async def _until(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.1)  # poll
    raise RuntimeError(f"{what} not within {timeout:.0f}s")


async def _part_back(stack: DevStack, fault: str, old_pid: int) -> bool:
    pid = stack.pids().get(fault)
    if pid is None or pid == old_pid:
        return False
    if fault == "broker":
        return _port_open(stack.ports["broker"])
    if fault == "PostgreSQL":
        try:
            conn = await asyncpg.connect(stack.database_url, timeout=2)
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
            return False
        await conn.close()
        return True
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{stack.url(fault)}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _one_fault(stack: DevStack, load: Load, fault: str, timeout: float) -> FaultResult:
    old_pid = stack.pids()[fault]
    killed_at = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    await _until(lambda: _part_back(stack, fault, old_pid), timeout, f"{fault} back")
    back_at = time.monotonic()
    flowing_s = None
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            probe = await load.post(client)
            posted_at = time.monotonic()
            await _until(lambda: load.visible(client, probe), timeout, f"a case dispatched after {fault} came back")
            seen_at = time.monotonic()
            if flowing_s is None:
                flowing_s = seen_at - back_at
            if seen_at - posted_at <= NORMAL_S:
                return FaultResult(fault, back_at - killed_at, flowing_s, posted_at - killed_at)
            if seen_at - killed_at > timeout:
                raise RuntimeError(f"cases still take over {NORMAL_S:.0f}s after {fault} came back")


async def _idle_cpu(stack: DevStack, seconds: float) -> float:
    before, began = stack.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)  # measuring over an interval
    return (stack.cpu_seconds() - before) / (time.monotonic() - began)


async def _check_store(stack: DevStack, load: Load, report: Report) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        titles = sorted(set(load.acknowledged.values()))
        rows = await conn.fetch(
            "SELECT payload->>'title' AS title, count(*) AS n FROM events WHERE event_type = 'CaseReceived'"
            " AND payload->>'title' = ANY($1) GROUP BY 1", titles)
        per_title = {r["title"]: r["n"] for r in rows}
        report.duplicated += [t for t, n in per_title.items() if n > 1]
        decided = await conn.fetch(
            "SELECT case_id FROM events WHERE event_type = 'CaseDispatched' AND case_id = ANY($1)"
            " GROUP BY case_id HAVING count(*) > 1", list(load.acknowledged))
        report.duplicated += [f"{r['case_id']} dispatched twice" for r in decided]
        report.dead_letters = await conn.fetchval("SELECT count(*) FROM dead_letters")
    finally:
        await conn.close()


async def _demo_state(stack: DevStack, report: Report) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        report.demo_cases = await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'CaseReceived'")
        report.demo_accounts = await conn.fetchval("SELECT count(*) FROM console_accounts")
    finally:
        await conn.close()


async def run_faults(stack: DevStack, faults: tuple[str, ...], *, rate: float, idle_s: float,
                     timeout: float = 60) -> Report:
    report = Report()
    await _demo_state(stack, report)
    report.idle_cpu_before = await _idle_cpu(stack, idle_s)
    load = Load(stack, rate, uuid.uuid4().hex[:8])
    stop = asyncio.Event()
    posting = asyncio.create_task(load.run_until(stop))
    try:
        await asyncio.sleep(3)  # a few seconds of load before the first fault
        for fault in faults:
            report.faults.append(await _one_fault(stack, load, fault, timeout))
    finally:
        stop.set()
        await posting
    report.acknowledged = len(load.acknowledged)
    report.server_errors = load.server_errors
    async with httpx.AsyncClient(timeout=10) as client:
        async def all_visible() -> bool:
            waiting = [c for c in load.acknowledged if c not in seen]
            for case_id, ok in zip(waiting, await asyncio.gather(*(load.visible(client, c) for c in waiting))):
                if ok:
                    seen.add(case_id)
            return len(seen) == len(load.acknowledged)

        seen: set[str] = set()
        try:
            await _until(all_visible, timeout, "every acknowledged case visible")
        except RuntimeError:
            report.lost = sorted(set(load.acknowledged) - seen)
    await _check_store(stack, load, report)
    report.idle_cpu_after = await _idle_cpu(stack, idle_s)
    report.log_lines = {log.stem: len(log.read_bytes().splitlines()) for log in (stack.data_dir / "logs").glob("*.log")}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10.0, help="cases posted per second")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, from {', '.join(FAULTS)}")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="how long idle CPU is measured")
    args = parser.parse_args(argv)
    faults = tuple(f for f in args.faults.split(",") if f)
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    stack = DevStack.fresh()
    try:
        print(f"starting estatedesk dev in {stack.data_dir} ...", flush=True)
        stack.start()
        report = asyncio.run(run_faults(stack, faults, rate=args.rate, idle_s=args.idle_seconds))
        report.left_running = stack.interrupt()
        print(report.table())
        return 0 if report.healed() and not report.left_running else 1
    finally:
        stack.remove()


if __name__ == "__main__":
    sys.exit(main())
