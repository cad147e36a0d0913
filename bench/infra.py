"""Embedded PostgreSQL and broker for a benchmark run, removed afterwards."""
from __future__ import annotations

import asyncio
import tempfile
from contextlib import contextmanager
from pathlib import Path

from estatedesk.eventstore.migrate import migrate
from estatedesk.infra.embedded import EmbeddedBroker, EmbeddedPostgres, free_port, remove_tree
from estatedesk.infra.stack import ensure_database
from estatedesk.messaging.kafka import create_topics


@contextmanager
def embedded(with_broker: bool = True):
    data = Path(tempfile.mkdtemp(prefix="estatedesk-bench-"))
    postgres = EmbeddedPostgres(data / "pg", free_port()).start()
    broker = EmbeddedBroker(free_port(), data / "broker.log").start() if with_broker else None
    try:
        asyncio.run(ensure_database(postgres.url, "bench"))
        url = postgres.url.rsplit("/", 1)[0] + "/bench"
        asyncio.run(migrate(url))
        if broker:
            create_topics(broker.bootstrap_servers, 3, 1)
        yield url, broker.bootstrap_servers if broker else None
    finally:
        if broker:
            broker.stop()
        postgres.stop()
        remove_tree(data)


def run_on_embedded(run, with_broker: bool = False) -> None:
    """Run a benchmark's `run(url)` against a fresh embedded PostgreSQL."""
    with embedded(with_broker=with_broker) as (url, _):
        asyncio.run(run(url))
