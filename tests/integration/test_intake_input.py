"""Bad input gets a field-level 422 and changes nothing; idempotency keys replay answers."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import token_for
from tests.support import repair_case, stack_now


async def _event_count(pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'CaseReceived'")


@pytest.mark.parametrize("body, field", [
    (repair_case(location={"building": "3", "unit": "2"}), ["body", "location", "room"]),
    (repair_case(location={"building": "99", "unit": "1", "room": "0101"}), ["body", "location", "building"]),
    (repair_case(reporter={"name": "x", "phone": "not-a-phone"}), ["body", "reporter", "phone"]),
    (repair_case(received_at=(stack_now() + timedelta(hours=1)).isoformat()), ["body", "received_at"]),
    (repair_case(received_at=(stack_now() - timedelta(days=8)).isoformat()), ["body", "received_at"]),
    (repair_case(type="parcel"), ["body", "type"]),
])
async def test_bad_case_is_refused_with_the_field_and_nothing_is_written(intake, pool, body, field):
    before = await _event_count(pool)
    response = await intake.post("/v1/cases", json=body)
    assert response.status_code == 422, response.text
    assert field in [error["loc"] for error in response.json()["detail"]]
    assert await _event_count(pool) == before


async def test_an_unknown_estate_is_a_field_error_even_for_the_group(stack, intake, pool):
    before = await _event_count(pool)
    admin = token_for(stack, role="group_admin", estates=(), user="group-admin")
    response = await intake.post("/v1/cases", json=repair_case(estate_id="E999"), headers=admin)
    assert response.status_code == 422
    assert ["body", "estate_id"] in [error["loc"] for error in response.json()["detail"]]
    assert await _event_count(pool) == before


async def test_malformed_json_is_a_422_not_a_500(intake):
    response = await intake.post("/v1/cases", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


async def test_same_idempotency_key_returns_the_same_case_and_another_body_conflicts(intake, pool):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await intake.post("/v1/cases", json=repair_case(), headers=key)
    count = await _event_count(pool)
    again = await intake.post("/v1/cases", json=repair_case(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["case_id"] == first.json()["case_id"]
    assert await _event_count(pool) == count

    other = await intake.post("/v1/cases", json=repair_case(title="Bathroom leak"), headers=key)
    assert other.status_code == 409
    assert await _event_count(pool) == count


async def test_concurrent_requests_with_one_key_create_one_case(intake, pool):
    import asyncio

    key = {"Idempotency-Key": str(uuid.uuid4())}
    before = await _event_count(pool)
    responses = await asyncio.gather(*(intake.post("/v1/cases", json=repair_case(), headers=key) for _ in range(6)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["case_id"] for r in responses}) == 1
    assert await _event_count(pool) == before + 1
