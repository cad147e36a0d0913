"""The whole system on one machine: infrastructure, schema, topics, the five services.

Used by `estatedesk dev` (the README's `make dev`) and by the integration-test harness,
so what the tests run is what a newcomer runs.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from estatedesk.config import Settings
from estatedesk.eventstore.migrate import migrate
from estatedesk.messaging.kafka import create_topics

from .broker_trim import BrokerTrim
from .embedded import EmbeddedBroker, EmbeddedPostgres, StackError, wait_for_port
from .supervisor import Part

SERVICES = ("console", "intake", "dispatch", "sla", "analytics")


def port_taken(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


async def ensure_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@dataclass
class Stack:
    settings: Settings
    data_dir: Path
    database_name: str = "estatedesk"
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    broker_trim: BrokerTrim | None = None
    _broker_restart: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Settings one service runs with instead of the stack's (a test may skew one service's clock).
    service_overrides: dict[str, dict] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def ports_in_use(self) -> list[str]:
        """The ports this stack would listen on that something else holds already."""
        s = self.settings
        wanted = {f"{name} ({name.upper()}_PORT)": s.service_port(name) for name in SERVICES}
        if not s.database_url:
            wanted["embedded PostgreSQL (ESTATEDESK_POSTGRES_PORT)"] = s.estatedesk_postgres_port
        if not s.kafka_bootstrap_servers:
            wanted["embedded broker (ESTATEDESK_BROKER_PORT)"] = s.estatedesk_broker_port
        return [f"{what}: port {port}" for what, port in wanted.items() if port_taken(s.estatedesk_host, port)]

    def start_infrastructure(self) -> None:
        """Start embedded PostgreSQL/broker for whatever the settings leave unset."""
        s = self.settings
        taken = self.ports_in_use()
        if taken:
            raise StackError("these ports are already in use (another `make dev` still running?): "
                             + "; ".join(taken))
        if not s.database_url:
            self.postgres = EmbeddedPostgres(self.data_dir / "pgdata", s.estatedesk_postgres_port).start()
            asyncio.run(ensure_database(self.postgres.url, self.database_name))
            s.database_url = self.postgres.url.rsplit("/", 1)[0] + f"/{self.database_name}"
        if not s.kafka_bootstrap_servers:
            self.broker = EmbeddedBroker(s.estatedesk_broker_port, self.log_dir / "broker.log").start()
            s.kafka_bootstrap_servers = self.broker.bootstrap_servers

    def prepare(self) -> list[str]:
        """Schema migrations and topics; returns the migrations applied now."""
        applied = asyncio.run(migrate(self.settings.database_url))
        self.create_topics()
        return applied

    def create_topics(self) -> list[str]:
        return create_topics(self.settings.kafka_bootstrap_servers, self.settings.estatedesk_topic_partitions,
                             self.settings.estatedesk_topic_replication)

    def restart_broker(self, *, create_topics: bool = True, at_once: bool = False) -> None:
        """Stop the embedded broker (`at_once`: kill it) and start it again on the same port. On
        memory storage it comes back empty — no topics, messages, consumer groups or committed
        offsets. The topics are created again at once unless asked not to (the services' topic
        guards would recreate them within ESTATEDESK_TOPIC_CHECK_S). The trim's thread and the
        supervisor both restart it: one at a time."""
        if self.broker is None:
            raise StackError("only the embedded broker can be restarted")
        with self._broker_restart:
            if at_once:
                self.broker.kill()
            else:
                self.broker.stop()
            self.broker = EmbeddedBroker(self.broker.port, self.broker.log_path).start()
            if create_topics:
                self.create_topics()

    def broker_alive(self) -> bool:
        """Alive, or being restarted on purpose (a trim) right now."""
        if not self._broker_restart.acquire(blocking=False):
            return True
        try:
            return self.broker.alive()
        finally:
            self._broker_restart.release()

    def supervised_parts(self) -> list[Part]:
        """Everything this stack started, infrastructure first, as parts a supervisor restarts."""
        parts = []
        if self.postgres is not None:
            parts.append(Part("PostgreSQL", self.postgres.alive, self.postgres.start, infrastructure=True,
                              log_hint=f" (see {self.postgres.data_dir / 'server.log'})"))
        if self.broker is not None:
            parts.append(Part("broker", self.broker_alive, self.restart_broker, infrastructure=True,
                              log_hint=" (memory storage: it comes back empty and its topics are created again)"))
        for name in self.processes:
            parts.append(Part(name, lambda name=name: self.processes[name].poll() is None,
                              lambda name=name: self.start_service(name),
                              log_hint=f" (see {self.log_dir / (name + '.log')})"))
        return parts

    def start_broker_trim(self) -> None:
        """Keep the embedded broker's memory bounded (see `broker_trim`); an external broker
        keeps its own retention."""
        s = self.settings
        if self.broker is None or s.estatedesk_broker_retention_s <= 0:
            return
        self.broker_trim = BrokerTrim(s.kafka_bootstrap_servers, lambda: self.restart_broker(at_once=True),
                                      s.estatedesk_group_prefix, s.estatedesk_broker_retention_s,
                                      s.estatedesk_broker_max_messages).start()

    def service_env(self, name: str | None = None) -> dict[str, str]:
        env = dict(os.environ)
        settings = self.settings.model_copy(update=self.service_overrides.get(name, {}))
        for key, value in settings.model_dump().items():
            env[key.upper()] = str(value)
        return env

    def start_service(self, name: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"], env=self.service_env(name),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def url(self, name: str) -> str:
        return f"http://{self.settings.estatedesk_host}:{self.settings.service_port(name)}"

    def wait_ready(self, name: str, timeout: float = 90) -> None:
        process = self.processes[name]
        wait_for_port(self.settings.service_port(name), timeout, process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}; see {self.log_dir / (name + '.log')}")
            try:
                if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # poll
        raise StackError(f"{name} not ready after {timeout}s; see {self.log_dir / (name + '.log')}")

    def start_services(self, names: tuple[str, ...] = SERVICES) -> None:
        for name in names:
            self.start_service(name)
        for name in names:
            self.wait_ready(name)

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        if self.broker_trim:
            self.broker_trim.stop()
        for name in list(self.processes):
            self.stop_service(name)
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()
