"""Prometheus metrics every service shares: request latency and its outbox relay."""
from __future__ import annotations

import time

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from estatedesk.eventstore.relay import OutboxRelay


def instrument_requests(app: FastAPI, registry: CollectorRegistry) -> None:
    latency = Histogram("estatedesk_request_seconds", "HTTP request latency", ["method", "route", "status"],
                        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

    @app.middleware("http")
    async def timed(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        latency.labels(request.method, getattr(route, "path", "unmatched"), str(response.status_code)).observe(
            time.perf_counter() - started)
        return response


def relay_metrics(registry: CollectorRegistry) -> tuple[Counter, Gauge]:
    """The published counter (pass `.inc` as the relay's on_published) and the backlog gauge."""
    published = Counter("estatedesk_events_published", "Outbox rows published to Kafka", registry=registry)
    backlog = Gauge("estatedesk_outbox_backlog", "Outbox rows waiting to be published", registry=registry)
    return published, backlog


def sweep_metric(registry: CollectorRegistry, consumer: str) -> Counter:
    """Cases the consumer's store sweep caught up (pass `.inc` as `on_recovered`). It stays 0
    while the broker delivers; anything else means messages were lost or came too late."""
    return Counter("estatedesk_sweep_recovered_cases", "Cases the store sweep caught up because no message"
                   " about them arrived in time", ["consumer"], registry=registry).labels(consumer)


def watch_relay(backlog: Gauge, relay: OutboxRelay) -> None:
    backlog.set_function(lambda: relay.stats.backlog)
