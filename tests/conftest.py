"""The integration stack: embedded PostgreSQL and broker plus the five services, started
once per test session (a consumer-group join costs seconds; per-test stacks would not fit
the time budget). Each session uses fresh ports, a fresh database and fresh group ids."""
from __future__ import annotations

import asyncio
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from estatedesk.auth import issue_token, now_utc
from estatedesk.config import Settings
from tests.support import clock_offset_s


def _stack_settings(data_dir: Path, **overrides) -> Settings:
    from estatedesk.infra.embedded import free_port

    return Settings(**{
        "database_url": "", "kafka_bootstrap_servers": "",
        "estatedesk_group_prefix": f"test-{uuid.uuid4().hex[:8]}",
        "estatedesk_broker_port": free_port(), "estatedesk_postgres_port": free_port(),
        "console_port": free_port(), "console_smtp_host": "127.0.0.1", "console_smtp_port": free_port(),
        "intake_port": free_port(), "dispatch_port": free_port(), "sla_port": free_port(),
        "analytics_port": free_port(),
        "estatedesk_data_dir": str(data_dir), "estatedesk_log_level": "WARNING",
        "estatedesk_sweep_grace_s": 1.0, "estatedesk_sweep_interval_s": 0.5,
        "estatedesk_clock_offset_s": clock_offset_s(),
        **overrides,
    })


@contextmanager
def _running_stack(database_name: str, services: tuple[str, ...], *, accounts: bool,
                   service_overrides: dict[str, dict] | None = None, **settings):
    from estatedesk.demo import seed_demo
    from estatedesk.eventstore import EventStore, create_pool
    from estatedesk.infra.embedded import remove_tree
    from estatedesk.infra.stack import Stack
    from services.console.auth.demo import seed_demo_accounts

    data_dir = Path(tempfile.mkdtemp(prefix="estatedesk-test-"))
    stack = Stack(_stack_settings(data_dir, **settings), data_dir, database_name=database_name,
                  service_overrides=dict(service_overrides or {}))
    try:
        stack.start_infrastructure()
        stack.prepare()

        async def seed():
            pool = await create_pool(stack.settings.database_url)
            try:
                await seed_demo(EventStore(pool), stack.settings.clock())
                if accounts:
                    await seed_demo_accounts(pool)
            finally:
                await pool.close()

        asyncio.run(seed())
        stack.start_services(services)
        yield stack
    finally:
        stack.stop()
        remove_tree(data_dir)


@pytest.fixture(scope="session")
def stack():
    from estatedesk.infra.stack import SERVICES

    with _running_stack("estatedesk_test", SERVICES, accounts=True) as stack:
        yield stack


# How far the broker stack's SLA service runs ahead of its other services: a one-minute
# target on a case received now comes due there SLA_LEAD_S sooner, yet still seconds after
# the clock was stored, so the tests see timers fire from the ticker without waiting a minute.
SLA_LEAD_S = 50.0


@pytest.fixture(scope="session")
def broker_stack():
    """A second stack whose store sweep waits an hour before it takes up an event, far beyond
    any test's deadline: whatever its consumers apply reached them through the broker. Only
    what the Kafka-path and timer tests need runs (no console); it starts only when a test
    asks for it."""
    with _running_stack("estatedesk_broker_test", ("intake", "dispatch", "sla", "analytics"), accounts=False,
                        estatedesk_sweep_grace_s=3600.0,
                        service_overrides={"sla": {"estatedesk_clock_offset_s": clock_offset_s() + SLA_LEAD_S}}
                        ) as stack:
        yield stack


@pytest_asyncio.fixture(scope="session")
async def pool(stack):
    from estatedesk.eventstore import create_pool

    pool = await create_pool(stack.settings.database_url, max_size=20)
    yield pool
    await pool.close()


def token_for(stack, role: str = "front_desk", estates=("E001",), user: str = "desk-zhao",
              household: str | None = None) -> dict:
    token = issue_token(stack.settings.estatedesk_secret, role=role, estates=list(estates), user=user, now=now_utc(),
                        household=household)
    return {"Authorization": f"Bearer {token}"}


@pytest_asyncio.fixture(scope="session")
async def intake(stack):
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=token_for(stack), timeout=20) as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def analytics(stack):
    async with httpx.AsyncClient(base_url=stack.url("analytics"), headers=token_for(stack), timeout=20) as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def broker_pool(broker_stack):
    from estatedesk.eventstore import create_pool

    pool = await create_pool(broker_stack.settings.database_url, max_size=10)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def broker_intake(broker_stack):
    async with httpx.AsyncClient(base_url=broker_stack.url("intake"), headers=token_for(broker_stack),
                                 timeout=20) as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def broker_analytics(broker_stack):
    async with httpx.AsyncClient(base_url=broker_stack.url("analytics"), headers=token_for(broker_stack),
                                 timeout=20) as client:
        yield client
