"""Whatever a client puts in a URL's path or query is a field-level 422, never a 500: months
outside 2000-01 … 2100-12, positions past a BIGINT, times that overflow, ids and search text
with NUL or control characters, cursors this API never wrote."""
from __future__ import annotations

import base64

import pytest

from tests.conftest import token_for
from tests.support import eventually, repair_case

MONTHLY = ("/v1/stats/monthly", "/v1/stats/monthly.csv", "/v1/stats/monthly.xlsx", "/v1/file-cards",
           "/v1/file-cards.csv")


def _refused(response, location: str, name: str) -> None:
    assert response.status_code == 422, response.text
    assert [location, name] in [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize("path", MONTHLY)
@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "2101-01", "2026-13", "2026-1"])
async def test_a_month_out_of_range_is_refused_and_no_report_is_written(analytics, path, month):
    response = await analytics.get(path, params={"month": month})
    _refused(response, "query", "month")
    assert "content-disposition" not in response.headers
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("path", MONTHLY)
@pytest.mark.parametrize("month", ["2000-01", "2100-12"])
async def test_the_first_and_last_months_of_the_range_are_served(analytics, path, month):
    response = await analytics.get(path, params={"month": month})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("position", [2**63, 2**64, -1])
async def test_a_position_past_a_bigint_is_refused(analytics, position):
    _refused(await analytics.get("/v1/cases", params={"min_position": position}), "query", "min_position")
    _refused(await analytics.get("/v1/cases/C-0123456789ABCDEF", params={"min_position": position}),
             "query", "min_position")


async def test_the_largest_position_is_taken(analytics):
    response = await analytics.get("/v1/cases/C-0123456789ABCDEF", params={"min_position": 2**63 - 1})
    assert response.status_code == 404


@pytest.mark.parametrize("limit", [0, 501, 2**64])
async def test_a_page_size_out_of_bounds_is_refused(analytics, limit):
    _refused(await analytics.get("/v1/cases", params={"limit": limit}), "query", "limit")


@pytest.mark.parametrize("case_id", ["C-1%00", "%00", "C-%0A1", "-C-1", "C" * 65])
async def test_a_malformed_case_id_is_refused_by_the_read_and_the_command_side(intake, analytics, case_id):
    _refused(await analytics.get(f"/v1/cases/{case_id}"), "path", "case_id")
    _refused(await intake.post(f"/v1/cases/{case_id}/cancel", json={"reason": "duplicate"}), "path", "case_id")


async def test_a_malformed_estate_or_household_id_is_refused_and_nothing_is_erased(stack, intake, pool):
    admin = token_for(stack, "group_admin", (), "group-admin")
    async with pool.acquire() as conn:
        erasures = await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'PersonalDataErased'")
    _refused(await intake.get("/v1/estates/E001%00"), "path", "estate_id")
    _refused(await intake.get("/v1/estates/E%0A1/policy"), "path", "estate_id")
    response = await intake.post("/v1/estates/E001/households/H-3-2-1502%00/erase-personal-data", headers=admin)
    _refused(response, "path", "household_id")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'PersonalDataErased'") == erasures


@pytest.mark.parametrize("name, value", [
    ("estate_id", "E001\x00"), ("status", "received\x00"), ("assignee", "a b"), ("household_id", "H\n1"),
    ("q", "leak\x00"), ("q", "leak\x1b[31m"), ("q", "two\nlines"), ("q", "\ufffe"),
])
async def test_ids_and_search_text_with_control_characters_are_refused(analytics, name, value):
    _refused(await analytics.get("/v1/cases", params={name: value}), "query", name)


async def test_search_text_in_any_script_is_served(intake, analytics):
    case_id = (await intake.post("/v1/cases", json=repair_case(title="厨房水管漏水 🚰"))).json()["case_id"]

    async def found():
        response = await analytics.get("/v1/cases", params={"q": "水管漏水", "estate_id": "E001"})
        assert response.status_code == 200, response.text
        return case_id in [item["case_id"] for item in response.json()["items"]]

    await eventually(found, what="the case found by its Chinese title")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59", "1999-12-31T23:59:59Z"])
async def test_a_time_that_overflows_or_is_out_of_range_is_refused(analytics, moment):
    _refused(await analytics.get("/v1/cases", params={"due_before": moment}), "query", "due_before")


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("cursor", [
    "null", "not*base64", _cursor("no separator"), _cursor("2026-11-01T00:00:00|C-1"),  # no offset
    _cursor("0001-01-01T00:00:00+14:00|C-1"), _cursor("2026-11-01T00:00:00+08:00|C-\x001"),
])
async def test_a_cursor_this_api_never_wrote_is_a_field_error(analytics, cursor):
    _refused(await analytics.get("/v1/cases", params={"cursor": cursor}), "query", "cursor")


async def test_the_cursor_this_api_wrote_leads_to_the_next_page(intake, analytics):
    for title in ("First of two", "Second of two"):
        assert (await intake.post("/v1/cases", json=repair_case(title=title))).status_code == 201

    async def first_page():
        page = (await analytics.get("/v1/cases", params={"limit": 1, "estate_id": "E001"})).json()
        return page if page["next_cursor"] else None

    cursor = (await eventually(first_page, what="a first page with a next cursor"))["next_cursor"]
    response = await analytics.get("/v1/cases", params={"limit": 1, "estate_id": "E001", "cursor": cursor})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 1
