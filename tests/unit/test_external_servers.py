"""With DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS set, the stack uses those servers and starts
no embedded PostgreSQL or broker; with them empty it starts both."""
from __future__ import annotations

import pytest

from estatedesk.config import Settings
from estatedesk.infra import stack as stack_module
from estatedesk.infra.embedded import free_port
from estatedesk.infra.stack import Stack

DATABASE_URL = "postgresql://ops@db.internal:5432/estatedesk"
BROKERS = "kafka-1.internal:9092,kafka-2.internal:9092"


@pytest.fixture
def started(monkeypatch) -> list[str]:
    """What the stack started, recorded instead of run."""
    calls: list[str] = []

    class Postgres:
        def __init__(self, data_dir, port):
            self.url = f"postgresql://embedded@127.0.0.1:{port}/postgres"

        def start(self):
            calls.append("postgres")
            return self

    class Broker:
        def __init__(self, port, log):
            self.bootstrap_servers = f"127.0.0.1:{port}"

        def start(self):
            calls.append("broker")
            return self

    async def no_database(admin_url, name):
        calls.append(f"database {name}")

    monkeypatch.setattr(stack_module, "EmbeddedPostgres", Postgres)
    monkeypatch.setattr(stack_module, "EmbeddedBroker", Broker)
    monkeypatch.setattr(stack_module, "ensure_database", no_database)
    return calls


def _settings(**servers) -> Settings:
    ports = {f"{name}_port": free_port() for name in ("console", "intake", "dispatch", "sla", "analytics")}
    return Settings(estatedesk_broker_port=free_port(), estatedesk_postgres_port=free_port(), **ports, **servers)


def test_configured_servers_are_used_and_nothing_is_started(started, tmp_path):
    stack = Stack(_settings(database_url=DATABASE_URL, kafka_bootstrap_servers=BROKERS), tmp_path)
    stack.start_infrastructure()
    assert started == []
    assert (stack.postgres, stack.broker) == (None, None)
    assert (stack.settings.database_url, stack.settings.kafka_bootstrap_servers) == (DATABASE_URL, BROKERS)
    assert list(tmp_path.iterdir()) == []  # no data directory for an embedded database either


def test_only_the_server_left_unset_is_started(started, tmp_path):
    stack = Stack(_settings(database_url=DATABASE_URL, kafka_bootstrap_servers=""), tmp_path)
    stack.start_infrastructure()
    assert started == ["broker"]
    assert stack.settings.database_url == DATABASE_URL and stack.postgres is None


def test_with_nothing_configured_both_are_started(started, tmp_path):
    stack = Stack(_settings(database_url="", kafka_bootstrap_servers=""), tmp_path, database_name="estatedesk")
    stack.start_infrastructure()
    assert started == ["postgres", "database estatedesk", "broker"]
    assert stack.settings.database_url.endswith("/estatedesk") and stack.settings.kafka_bootstrap_servers
