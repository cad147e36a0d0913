"""The operator commands of the README, run as commands (`.venv/bin/estatedesk ...`) against
the test stack's PostgreSQL and broker."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from openpyxl import load_workbook

from estatedesk.auth import read_token
from estatedesk.contracts import CASE_EVENTS, DISPATCH_EVENTS, EVENT_TYPES, TOPICS
from estatedesk.contracts.topology import notified_event_types
from estatedesk.eventstore.lag import consumer_lag
from estatedesk.infra.embedded import EmbeddedBroker, free_port
from estatedesk.infra.state_file import write_state
from services.analytics.export import HEADERS
from tests.broker import CONSUMERS, applied_what_each_hears_of
from tests.conftest import token_for
from tests.support import eventually, repair_case, stack_now

CONSUMER_NAMES = [consumer for consumer, _ in CONSUMERS.values()]

ESTATEDESK = str(Path(sys.executable).parent / "estatedesk")
MIGRATIONS = sorted(p.name for p in (Path(__file__).parents[2] / "estatedesk" / "migrations").glob("*.sql"))


def _run(stack, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": stack.settings.database_url,
                   "KAFKA_BOOTSTRAP_SERVERS": stack.settings.kafka_bootstrap_servers,
                   "ESTATEDESK_SECRET": stack.settings.estatedesk_secret, **env}
    return subprocess.run([ESTATEDESK, *args], env=environment, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


async def estatedesk(stack, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(_run, stack, *args, cwd=cwd, **env)


async def on_the_stack(stack, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """The command with every setting of the test stack (its ports, group prefix, data dir)."""
    return await estatedesk(stack, *args, cwd=cwd, **{**stack.service_env(), **env})


async def test_token_prints_a_bearer_token_the_apis_take(stack, intake):
    done = await estatedesk(stack, "token", "--role", "front_desk", "--estate", "E001", "--user", "e001-desk-cli")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    principal = read_token(stack.settings.estatedesk_secret, token)
    assert (principal.user, principal.role, principal.estates, principal.household) == \
        ("e001-desk-cli", "front_desk", ("E001",), None)
    created = await intake.post("/v1/cases", json=repair_case(title="Filed with a CLI token"),
                                headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text

    resident = await estatedesk(stack, "token", "--role", "resident", "--estate", "E001", "--household", "H-CLI-1")
    assert read_token(stack.settings.estatedesk_secret, resident.stdout.strip()).household == "H-CLI-1"


@pytest.fixture
async def empty_database(stack):
    """A database of its own on the test stack's PostgreSQL, dropped afterwards."""
    name = f"estatedesk_cli_{uuid.uuid4().hex[:8]}"
    admin_url = stack.settings.database_url.rsplit("/", 1)[0] + "/postgres"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield stack.settings.database_url.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_migrate_applies_the_versioned_schema_once(stack, empty_database):
    first = await estatedesk(stack, "migrate", DATABASE_URL=empty_database)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "applied: " + ", ".join(MIGRATIONS)
    conn = await asyncpg.connect(empty_database)
    try:
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()
    assert {"events", "outbox", "case_positions", "case_views", "dead_letters", "sla_cases"} <= tables
    again = await estatedesk(stack, "migrate", DATABASE_URL=empty_database)
    assert (again.returncode, again.stdout.strip()) == (0, "applied: nothing (schema is current)")


@pytest.fixture
def empty_broker(tmp_path):
    broker = EmbeddedBroker(free_port(), tmp_path / "broker.log").start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


async def test_topics_creates_the_contract_topics_once(stack, empty_broker):
    created = await estatedesk(stack, "topics", KAFKA_BOOTSTRAP_SERVERS=empty_broker, ESTATEDESK_TOPIC_PARTITIONS="2")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created: " + ", ".join(TOPICS)
    consumer = AIOKafkaConsumer(bootstrap_servers=empty_broker)
    await consumer.start()
    try:
        assert set(TOPICS) <= await consumer.topics()
        assert [consumer.partitions_for_topic(t) for t in TOPICS] == [{0, 1}] * len(TOPICS)
    finally:
        await consumer.stop()
    again = await estatedesk(stack, "topics", KAFKA_BOOTSTRAP_SERVERS=empty_broker)
    assert (again.returncode, again.stdout.strip()) == (0, "created: nothing (topics exist)")


async def _end_offsets(stack, topics) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(stack.settings.estatedesk_topic_partitions)]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def _published_after(stack, start: dict[TopicPartition, int], case_id: str, want: set[str]) -> set[str]:
    """Event ids of the case's messages published after `start`, once they include `want`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                fetch_max_wait_ms=10)
    await consumer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        seen: set[str] = set()

        async def arrived():
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                seen.update(m["event_id"] for m in (json.loads(x.value) for x in messages) if m["case_id"] == case_id)
            return want <= seen
        await eventually(arrived, timeout=30, what="the replayed events on their topics")
        return seen
    finally:
        await consumer.stop()


async def _applied_by_every_consumer(pool, case_id: str) -> tuple[int, dict[str, int]]:
    """Once the case is dispatched and every consumer applied what it hears of: (its last
    position, consumer → position)."""
    async def settled():
        async with pool.acquire() as conn:
            head = await conn.fetchval("SELECT max(position) FROM events WHERE case_id = $1", case_id)
            dispatched = await conn.fetchval("SELECT 1 FROM events WHERE stream_id = $1", f"{case_id}/dispatch")
        done = await applied_what_each_hears_of(pool, case_id)
        return dispatched and done and (head, done)
    return await eventually(settled, what="the case applied by every consumer")


async def test_replay_to_kafka_publishes_stored_events_again_and_consumers_change_nothing(stack, intake, pool):
    case_id = (await intake.post("/v1/cases", json=repair_case(title="Published twice"))).json()["case_id"]
    head, positions = await _applied_by_every_consumer(pool, case_id)
    async with pool.acquire() as conn:
        first = await conn.fetchval("SELECT min(position) FROM events WHERE case_id = $1", case_id)
        stored = {r["event_type"]: str(r["event_id"]) for r in await conn.fetch(
            "SELECT event_type, event_id FROM events WHERE case_id = $1", case_id)}
        view = await conn.fetchval("SELECT view FROM case_views WHERE case_id = $1", case_id)
    on_topics = {stored["CaseReceived"], stored["CaseDispatched"]}  # one message on each of two topics
    start = await _end_offsets(stack, (CASE_EVENTS, DISPATCH_EVENTS))

    done = await estatedesk(stack, "replay", "--to-kafka", "--from-position", str(first - 1))
    assert done.returncode == 0, done.stderr
    queued = int(re.fullmatch(r"queued (\d+) events for publishing", done.stdout.strip()).group(1))
    async with pool.acquire() as conn:
        after_first = await conn.fetchval("SELECT count(*) FROM events WHERE position >= $1", first)
    assert len(stored) <= queued <= after_first

    assert on_topics <= await _published_after(stack, start, case_id, on_topics)
    async with pool.acquire() as conn:
        await eventually(lambda: _outbox_empty(pool), what="the replay relayed")
        again = {r["consumer"]: r["position"] for r in await conn.fetch(
            "SELECT consumer, position FROM case_positions WHERE case_id = $1", case_id)}
        assert await conn.fetchval("SELECT view FROM case_views WHERE case_id = $1", case_id) == view
        assert await conn.fetchval("SELECT max(position) FROM events WHERE case_id = $1", case_id) == head
    # nothing new was applied; a replayed message may only move a position over events of another
    # service the consumer never hears of
    assert all(positions[c] <= again[c] <= head for c in positions), (positions, again)


async def _outbox_empty(pool) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_simulate_writes_a_month_that_analytics_projects(stack, analytics, pool):
    done = await estatedesk(stack, "simulate", "--estates", "1", "--cases", "40", "--month", "2019-03", "--seed", "3")
    assert done.returncode == 0, done.stderr
    written = int(re.match(r"wrote (\d+) events", done.stdout).group(1))
    async with pool.acquire() as conn:
        stored = await conn.fetchrow("SELECT count(*) AS events, count(DISTINCT case_id) AS cases FROM events"
                                     " WHERE case_id LIKE 'C-S001-201903-%'")
    assert (stored["events"], stored["cases"]) == (written, 40)
    group = token_for(stack, "group_admin", (), "group-analyst")

    async def projected():
        answer = await analytics.get("/v1/stats/monthly", params={"month": "2019-03", "estate_id": "S001"},
                                     headers=group)
        return answer.status_code == 200 and answer.json()["total"] == 40 and answer.json()
    month = await eventually(projected, timeout=30, what="the simulated month projected")
    assert sum(month["by_type"].values()) == 40


async def test_catalogue_prints_the_envelope_and_every_payload_as_json_schema(stack):
    done = await estatedesk(stack, "catalogue")
    assert done.returncode == 0, done.stderr
    catalogue = json.loads(done.stdout)
    assert catalogue["envelope"]["type"] == "object" and "event_id" in catalogue["envelope"]["properties"]
    assert set(catalogue["events"]) == set(EVENT_TYPES)
    assert all(entry["payload"]["type"] == "object" for entry in catalogue["events"].values())


async def test_export_writes_the_months_report_as_csv_and_as_xlsx(stack, tmp_path):
    month = stack_now().strftime("%Y-%m")
    as_csv = await on_the_stack(stack, "export", "--month", month, "--estate", "E001", "--format", "csv",
                                "--out", str(tmp_path / "e001.csv"))
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout.strip() == str(tmp_path / "e001.csv")
    table = list(csv.reader(io.StringIO((tmp_path / "e001.csv").read_text(encoding="utf-8-sig"))))
    assert table[0] == HEADERS and table[1][0] == "案件总数 / Total cases"

    as_xlsx = await on_the_stack(stack, "export", "--month", month, "--format", "xlsx", cwd=tmp_path)
    assert as_xlsx.returncode == 0, as_xlsx.stderr
    written = tmp_path / f"estatedesk-group-{month}.xlsx"
    assert as_xlsx.stdout.strip() == written.name
    assert [c.value for c in load_workbook(written).active[1]] == HEADERS
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["e001.csv", written.name])  # no .partial left


async def test_export_checks_its_arguments_first_and_says_in_one_line_what_analytics_refused(stack, tmp_path):
    for bad in (["--month", "2026-13"], ["--month", "2026-10", "--estate", "E 001"]):
        refused = await on_the_stack(stack, "export", *bad, "--format", "csv", cwd=tmp_path)
        assert refused.returncode == 2 and "export: error: argument" in refused.stderr
    unsigned = await on_the_stack(stack, "export", "--month", "2026-10", "--format", "csv", cwd=tmp_path,
                                  ESTATEDESK_SECRET="a-secret-of-32-bytes-or-more-but-not-the-stacks")
    assert unsigned.returncode == 1
    assert unsigned.stderr.strip().startswith("estatedesk export: analytics answered 401")
    assert len(unsigned.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


async def _caught_up(pool) -> bool:
    """Every consumer has applied the store and the outbox is empty."""
    lags = [await consumer_lag(pool, consumer, notified_event_types(service), stack_now())
            for service, (consumer, _) in CONSUMERS.items()]
    return all(events == 0 for events, _ in lags) and await _outbox_empty(pool)


async def test_doctor_finds_the_test_stack_healthy_and_fails_on_an_unreachable_broker(stack, pool):
    await eventually(lambda: _caught_up(pool), timeout=60, what="every consumer caught up")
    async with pool.acquire() as conn:
        dead_letters = await conn.fetchval("SELECT count(*) FROM dead_letters")
    healthy = await on_the_stack(stack, "doctor")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    prefix = stack.settings.estatedesk_group_prefix
    checks = ["database", "schema", "broker", *(f"topic {t}" for t in TOPICS),
              *(f"group {prefix}-{service}" for service in CONSUMERS), *(f"lag {c}" for c in CONSUMER_NAMES),
              "outbox", "dead letters"]
    expected = [("WARN" if check == "dead letters" and dead_letters else "OK", check) for check in checks]
    found = [(level, check) for level, check in expected
             if re.search(rf"^{level}\s+{re.escape(check)}\s", healthy.stdout, re.M)]
    assert (found, len(healthy.stdout.splitlines())) == (expected, len(checks)), healthy.stdout

    unreachable = await on_the_stack(stack, "doctor", KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")
    assert unreachable.returncode == 1
    assert re.search(r"^FAIL\s+broker\s+unreachable .* — start `make dev`", unreachable.stdout, re.M)


async def test_trace_shows_a_cases_events_and_the_consumers_that_applied_them(stack, intake, pool):
    case_id = (await intake.post("/v1/cases", json=repair_case(title="Traced"))).json()["case_id"]
    head, positions = await _applied_by_every_consumer(pool, case_id)
    traced = await on_the_stack(stack, "trace", case_id)
    assert traced.returncode == 0, traced.stderr
    assert re.search(rf"\d+\s+{re.escape(case_id)}\s+1\s+CaseReceived\s+case-events", traced.stdout)
    assert re.search(rf"{re.escape(case_id)}/dispatch\s+1\s+CaseDispatched\s+dispatch-events", traced.stdout)
    for consumer in positions:
        assert re.search(rf"^  {re.escape(consumer)}\s+up to position {positions[consumer]} \(\d+ of \d+ events\)",
                         traced.stdout, re.M), traced.stdout

    unknown = await on_the_stack(stack, "trace", "C-NO-SUCH-CASE")
    assert unknown.returncode == 1 and "no events of case C-NO-SUCH-CASE" in unknown.stderr
    assert (await on_the_stack(stack, "trace", "C 1")).returncode == 2


def _in_a_plain_shell(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    """The command in `checkout` with nothing of the stack in its environment."""
    return subprocess.run([ESTATEDESK, *args], env={"PATH": os.environ["PATH"]}, cwd=checkout,
                          capture_output=True, text=True, timeout=120)


async def test_a_plain_shell_finds_the_running_stack_through_its_state_file(stack, tmp_path):
    recorded = stack.settings.model_copy(update={"estatedesk_data_dir": str(tmp_path / ".estatedesk")})
    write_state(recorded, os.getpid())  # this test process stands in for the live `estatedesk dev`
    topics = await asyncio.to_thread(_in_a_plain_shell, tmp_path, "topics")
    assert (topics.returncode, topics.stdout.strip()) == (0, "created: nothing (topics exist)"), topics.stderr
    listed = await asyncio.to_thread(_in_a_plain_shell, tmp_path, "dead-letters")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr

    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()
    write_state(recorded, gone.pid)
    stale = await asyncio.to_thread(_in_a_plain_shell, tmp_path, "dead-letters")
    assert stale.returncode == 2
    assert stale.stderr.splitlines() == [
        f"note: ignoring .estatedesk/state.json: the `estatedesk dev` that wrote it"
        f" (pid {gone.pid}) is no longer running",
        "estatedesk dead-letters: start `make dev` or set DATABASE_URL"]
