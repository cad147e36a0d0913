"""One configuration source: environment variables with documented defaults.

`Settings` is built once by each entry point (service `__main__`, CLI) and passed down
explicitly; nothing reads the environment at import time.
"""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "estatedesk-development-secret-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = Field(
        "", description="PostgreSQL URL. Empty: `estatedesk dev` starts an embedded PostgreSQL."
    )
    kafka_bootstrap_servers: str = Field(
        "", description="Kafka bootstrap servers. Empty: `estatedesk dev` starts an embedded broker."
    )
    estatedesk_secret: str = Field(DEV_SECRET, description="HMAC secret that signs bearer tokens.")
    estatedesk_demo: bool = Field(True, description="Seed the demo group (E001, E002) on `make dev`.")
    estatedesk_group_prefix: str = Field(
        "estatedesk", description="Prefix of consumer-group ids (one group per service)."
    )
    estatedesk_topic_partitions: int = Field(3, description="Partitions per topic when topics are created.")
    estatedesk_topic_replication: int = Field(1, description="Replication factor when topics are created.")
    estatedesk_broker_port: int = Field(9092, description="Port of the embedded broker.")
    estatedesk_broker_retention_s: float = Field(
        3600.0, description="How long `make dev`'s embedded broker holds messages before it is emptied of those"
                            " every consumer group has committed; 0 keeps them all.")
    estatedesk_broker_max_messages: int = Field(
        20_000, ge=1, description="Empty the embedded broker sooner once it holds this many messages"
                                  " (its hops slow down as they pile up).")
    estatedesk_postgres_port: int = Field(55432, description="Port of the embedded PostgreSQL.")
    estatedesk_data_dir: str = Field(".estatedesk", description="Where `make dev` keeps embedded data.")
    console_port: int = 8000
    intake_port: int = 8001
    dispatch_port: int = 8002
    sla_port: int = 8003
    analytics_port: int = 8004
    estatedesk_host: str = Field("127.0.0.1", description="Interface the services listen on.")
    estatedesk_log_level: str = "INFO"
    estatedesk_max_body_bytes: int = Field(
        1_048_576, ge=1, description="Largest request body a service reads; a larger one is answered 413."
    )
    estatedesk_fetch_max_wait_ms: int = Field(
        10, description="Consumer fetch wait while messages flow; Tansu answers a waiting fetch after about"
                        " half of it."
    )
    estatedesk_quiet_fetch_wait_ms: int = Field(
        200, description="Consumer fetch wait once the topics have been quiet for ESTATEDESK_QUIET_AFTER_S:"
                         " an idle stack sleeps; the first message after the quiet costs up to half of it."
    )
    estatedesk_quiet_after_s: float = Field(1.0, description="Seconds without a message before a consumer waits long.")
    estatedesk_session_timeout_s: float = Field(
        6.0, description="Consumer-group session timeout; a group join takes about half of it."
    )
    estatedesk_topic_check_s: float = Field(
        5.0, description="How often each service checks that the contract topics exist and recreates missing ones."
    )
    estatedesk_relay_batch: int = Field(500, description="Outbox rows the relay publishes per batch.")
    estatedesk_sweep_grace_s: float = Field(
        5.0, description="How old a stored event must be before a consumer's store sweep takes it up."
    )
    estatedesk_sweep_interval_s: float = Field(2.0, description="How often each consumer sweeps the store.")
    estatedesk_sla_tick_s: float = Field(0.2, description="How often the SLA service looks for due timers.")
    estatedesk_clock_offset_s: float = Field(
        0.0, description="Seconds the services' clock runs ahead of (or, negative, behind) the machine's;"
                         " 0 in production, set by the test stack to run at a chosen time."
    )

    console_intake_url: str = Field("", description="Intake base URL the console calls (default: host and INTAKE_PORT).")
    console_analytics_url: str = Field(
        "", description="Analytics base URL the console calls (default: host and ANALYTICS_PORT).")
    console_smtp_host: str = Field("", description="SMTP server for console e-mail notifications; empty: no e-mail.")
    console_smtp_port: int = Field(25, description="Port of CONSOLE_SMTP_HOST.")
    console_mail_from: str = Field("estatedesk@localhost", description="Sender of console e-mail notifications.")
    console_session_hours: float = Field(12.0, description="How long a console sign-in lasts.")

    def clock(self):
        from estatedesk.clock import shifted_clock

        return shifted_clock(self.estatedesk_clock_offset_s)

    def service_url(self, service: str) -> str:
        override = getattr(self, f"console_{service}_url", "")
        return override.rstrip("/") if override else f"http://{self.estatedesk_host}:{self.service_port(service)}"

    def service_port(self, service: str) -> int:
        return int(getattr(self, f"{service}_port"))
