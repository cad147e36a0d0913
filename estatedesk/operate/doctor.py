"""`estatedesk doctor`: measure the database, the broker and the consumers, then let
`health` judge each finding."""
from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg

from estatedesk.config import Settings
from estatedesk.contracts import TOPICS
from estatedesk.contracts.topology import notified_event_types
from estatedesk.eventstore.lag import consumer_lag
from estatedesk.eventstore.migrate import migration_files
from estatedesk.messaging.dead_letters import summary
from estatedesk.messaging.kafka import group_members, topic_partitions

from . import health
from .health import Verdict

CONNECT_TIMEOUT_S = 5.0


def consumers() -> dict[str, str]:
    """Consuming service → the name it tracks its progress under in the store."""
    from services.analytics.projection import CONSUMER as ANALYTICS
    from services.dispatch.handlers import CONSUMER as DISPATCH
    from services.sla.handlers import CONSUMER as SLA

    return {"dispatch": DISPATCH, "sla": SLA, "analytics": ANALYTICS}


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


async def _store_checks(settings: Settings, now: datetime) -> list[Verdict]:
    try:
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2, timeout=CONNECT_TIMEOUT_S)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError, ValueError) as exc:
        return [health.database(_reason(exc))] + [health.not_checked(check, "the database is unreachable")
                                                  for check in ("schema", "lag", "outbox", "dead letters")]
    try:
        verdicts = [health.database(None)]
        async with pool.acquire() as conn:
            migrated = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")} \
                if migrated else set()
        verdicts.append(health.schema(applied, {number: name for number, name, _ in migration_files()}))
        if not migrated:
            return verdicts
        for service, consumer in consumers().items():
            events, oldest_s = await consumer_lag(pool, consumer, notified_event_types(service), now)
            verdicts.append(health.consumer_lag(consumer, service, events, oldest_s))
        async with pool.acquire() as conn:
            # created_at is the database's now(), so its age is taken on the database's clock
            waiting = await conn.fetchrow("SELECT count(*) AS n, coalesce(extract(epoch FROM now()"
                                          " - min(created_at)), 0)::float8 AS oldest_s FROM outbox")
        verdicts.append(health.outbox(waiting["n"], waiting["oldest_s"]))
        by_consumer: dict[str, int] = {}
        for row in await summary(pool):
            by_consumer[row["consumer"]] = by_consumer.get(row["consumer"], 0) + row["count"]
        verdicts.append(health.dead_letters(by_consumer))
        return verdicts
    finally:
        await pool.close()


def _broker_checks(settings: Settings) -> list[Verdict]:
    services = list(consumers())
    groups = {f"{settings.estatedesk_group_prefix}-{service}": service for service in services}
    try:
        partitions = topic_partitions(settings.kafka_bootstrap_servers)
        members = group_members(settings.kafka_bootstrap_servers, list(groups))
    except Exception as exc:  # kafka-python raises its own errors, OSError and timeouts alike
        return [health.broker(_reason(exc))] + [health.not_checked(check, "the broker is unreachable")
                                                for check in ("topics", "consumer groups")]
    return [health.broker(None),
            *(health.topic(topic, partitions.get(topic), settings.estatedesk_topic_partitions) for topic in TOPICS),
            *(health.consumer_group(group, service, members.get(group, 0)) for group, service in groups.items())]


async def examine(settings: Settings) -> list[Verdict]:
    """Every check, the store's and the broker's side by side."""
    # events are recorded on the services' clock, so their lag is measured on it
    store, broker = await asyncio.gather(_store_checks(settings, settings.clock()()),
                                         asyncio.to_thread(_broker_checks, settings))
    return store + broker
