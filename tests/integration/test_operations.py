"""Every service answers /healthz, /readyz, /metrics and its OpenAPI document, without a token; intake
also serves the AsyncAPI document of the topics."""
from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from estatedesk.contracts import BILLING_EVENTS, CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS
from estatedesk.contracts.published_versions import load as load_published_versions
from tests.support import eventually

# what each service checks before it calls itself ready, and the topics its consumer group reads
READINESS = {
    "intake": ({"database", "relay"}, ()),
    "dispatch": ({"consumer"}, (CASE_EVENTS,)),
    "sla": ({"consumer"}, (CASE_EVENTS, DISPATCH_EVENTS)),
    "analytics": ({"consumer", "projection"}, (CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS, BILLING_EVENTS)),
    "console": ({"database", "consumer"}, (SLA_EVENTS, DISPATCH_EVENTS)),
}
CONSUMER_LAG = {"estatedesk_consumer_lag_events", "estatedesk_consumer_lag_seconds"}
PROJECTION_LAG = {"estatedesk_projection_lag_events", "estatedesk_projection_lag_seconds"}
METRICS = {  # beside estatedesk_request_seconds, which every service exports
    "intake": set(), "dispatch": CONSUMER_LAG, "sla": CONSUMER_LAG | {"estatedesk_calendar_years_missing"},
    "analytics": PROJECTION_LAG, "console": set()}


@pytest.mark.parametrize("service", sorted(READINESS))
async def test_every_service_answers_health_readiness_and_metrics(stack, service):
    checks, topics = READINESS[service]
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=10) as client:
        health = await client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})

        async def ready():
            answer = await client.get("/readyz")
            body = answer.json()
            assigned = body["checks"].get("consumer", {}).get("partitions")
            # the service's consumer is the only member of its group: it holds every partition
            return answer.status_code == 200 and body["ready"] is True and (
                not topics or assigned == len(topics) * stack.settings.estatedesk_topic_partitions) and body
        body = await eventually(ready, timeout=30, what=f"{service} ready with its whole assignment")
        assert set(body["checks"]) == checks
        assert all(check["ok"] is True for check in body["checks"].values())

        metrics = await client.get("/metrics")
        docs, openapi = await client.get("/docs"), await client.get("/openapi.json")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert openapi.status_code == 200 and openapi.json()["paths"]  # "OpenAPI is at /docs on every service"
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    families = {family.name for family in text_string_to_metric_families(metrics.text)}  # parses as Prometheus text
    assert {"estatedesk_request_seconds", *METRICS[service]} <= families


async def test_intake_serves_the_committed_asyncapi_document_without_a_token(stack):
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=10) as client:
        answer = await client.get("/asyncapi.json")
    assert answer.status_code == 200 and answer.json() == load_published_versions()
