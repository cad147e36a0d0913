"""`make dev` under load while its parts are killed, in short (`make faults` runs every fault).

The stack here is the dev command itself, started as a newcomer starts it, so this is also
where its promises are held: the demo accounts exist, the demo group has no case, a killed
service, broker or database comes back by itself with nothing lost or doubled, nothing is
dead-lettered, the logs stay readable, and Ctrl-C stops every process it started.
The recovery times are figures of `make faults` (bench/faults.py), not assertions here.
"""
from __future__ import annotations

import asyncio

import pytest

from bench.faults import DevStack, run_faults
from estatedesk.demo import seed_for_dev
from services.console.auth.demo import demo_accounts

SHORT = ("dispatch", "broker", "PostgreSQL")
# Far below the thousands of lines a minute an outage used to write, far above a healthy run's.
LOG_LINES_AT_MOST = 400


@pytest.fixture(scope="module")
def faults_report():
    stack = DevStack.fresh()
    try:
        stack.start()
        report = asyncio.run(run_faults(stack, SHORT, rate=5, idle_s=1))
        report.left_running = stack.interrupt()
        yield report
    finally:
        stack.remove()


def test_make_dev_seeds_the_demo_accounts_and_no_case(faults_report):
    assert faults_report.demo_accounts == len(demo_accounts())
    assert faults_report.demo_cases == 0


def test_each_killed_part_comes_back_by_itself_and_cases_flow_again(faults_report):
    assert [r.fault for r in faults_report.faults] == list(SHORT)  # each recovered within the harness's deadline


def test_no_acknowledged_case_is_lost_or_recorded_twice_and_nothing_is_dead_lettered(faults_report):
    assert faults_report.acknowledged > 0
    assert faults_report.lost == []
    assert faults_report.duplicated == []
    assert faults_report.dead_letters == 0


def test_while_the_database_is_away_intake_answers_503_with_retry_after_never_another_5xx(faults_report):
    assert faults_report.server_errors == []


def test_an_outage_leaves_a_few_log_lines_not_a_flood(faults_report):
    assert set(faults_report.log_lines) >= {"intake", "dispatch", "sla", "analytics", "console"}
    assert max(faults_report.log_lines.values()) <= LOG_LINES_AT_MOST, faults_report.log_lines


def test_ctrl_c_stops_every_process_make_dev_started(faults_report):
    assert faults_report.left_running == []


async def test_without_estatedesk_demo_the_dev_command_seeds_nothing(stack):
    from estatedesk.eventstore import create_pool
    from estatedesk.eventstore.migrate import migrate
    from estatedesk.infra.stack import ensure_database

    admin = stack.settings.database_url.rsplit("/", 1)[0] + "/postgres"
    await ensure_database(admin, "demo_off")
    url = stack.settings.database_url.rsplit("/", 1)[0] + "/demo_off"
    await migrate(url)
    pool = await create_pool(url)
    try:
        assert await seed_for_dev(pool, stack.settings.clock(), demo=False) == ([], [])
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM events") == 0
            assert await conn.fetchval("SELECT count(*) FROM console_accounts") == 0
        estates, accounts = await seed_for_dev(pool, stack.settings.clock(), demo=True)
        assert estates == ["E001", "E002"] and len(accounts) == len(demo_accounts())
    finally:
        await pool.close()
