"""The group admin loads the official working calendar of a year, and the SLA engine follows it:
a day made a holiday moves a return visit's deadline past it; a year without a table shows
in the SLA service's readiness until it is loaded."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.sla.domain.working_time import YearTable, is_working_day
from tests.conftest import token_for
from tests.support import StoryCase, eventually, repair_case, stack_now

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def people(stack):
    return {
        "admin": token_for(stack, "group_admin", (), "group-admin-lin"),
        "manager": token_for(stack, "estate_manager", ("E001",), "e001-manager"),
        "resident": token_for(stack, "resident", ("E001",), "resident-wang", household="H-3-2-1502"),
        "desk": token_for(stack, "front_desk", ("E001",), "e001-desk-zhao"),
        "staff": token_for(stack, "department_staff", ("E001",), "e001-eng-sun"),
    }


async def _calendar(intake, people, year: int) -> dict:
    answer = await intake.get(f"/v1/calendar/{year}", headers=people["admin"])
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _readiness(stack) -> tuple[dict, float]:
    async with httpx.AsyncClient(base_url=stack.url("sla"), timeout=10) as sla:
        ready = await eventually(lambda: _ready(sla), timeout=30, what="sla ready")
        metrics = (await sla.get("/metrics")).text
    missing = next(s.value for f in text_string_to_metric_families(metrics) for s in f.samples
                   if s.name == "estatedesk_calendar_years_missing")
    return ready, missing


async def _ready(sla):
    answer = await sla.get("/readyz")
    return answer.json() if answer.status_code == 200 and answer.json()["ready"] else None


async def test_the_sla_service_warns_while_this_or_next_year_has_no_calendar(stack, intake, people):
    year = stack_now().astimezone(SHANGHAI).year
    missing = [y for y in (year, year + 1) if (await _calendar(intake, people, y))["source"] == "none"]
    ready, gauge = await _readiness(stack)
    warned = [w for w in ready["warnings"] if w["check"] == "calendar"]
    assert gauge == len(missing)
    assert bool(warned) == bool(missing) and all(str(y) in warned[0]["finding"] for y in missing)
    for y in missing:  # no holidays: the Monday-to-Friday the engine assumed, so later tests' deadlines stay
        loaded = await intake.put(f"/v1/calendar/{y}", headers=people["admin"],
                                  json={"holidays": [], "working_days": []})
        assert loaded.status_code == 200, loaded.text
        assert (await _calendar(intake, people, y))["source"] == "loaded"
    ready, gauge = await _readiness(stack)
    assert gauge == 0 and not [w for w in ready["warnings"] if w["check"] == "calendar"]


async def test_only_the_group_admin_loads_the_calendar_and_junk_is_refused_naming_the_field(intake, people):
    year = stack_now().year + 1
    before = await _calendar(intake, people, year)
    table = {"holidays": [f"{year}-01-01"], "working_days": []}
    for who in ("manager", "desk"):
        assert (await intake.put(f"/v1/calendar/{year}", headers=people[who], json=table)).status_code == 403
    assert (await intake.get(f"/v1/calendar/{year}", headers=people["resident"])).status_code == 403
    for body, field in (({"holidays": [f"{year + 1}-01-01"], "working_days": []}, ["body", "holidays", "0"]),
                        ({"holidays": ["soon"], "working_days": []}, ["body", "holidays", 0]),
                        ({"holidays": [f"{year}-01-01"], "working_days": [f"{year}-01-01"]}, ["body", "working_days"]),
                        ({**table, "weekends": []}, ["body", "weekends"])):
        refused = await intake.put(f"/v1/calendar/{year}", headers=people["admin"], json=body)
        assert refused.status_code == 422 and field in [e["loc"] for e in refused.json()["detail"]], refused.text
    assert (await intake.put("/v1/calendar/99999", headers=people["admin"], json=table)).status_code == 422
    assert await _calendar(intake, people, year) == before


async def _return_visit_due(intake, analytics, people, title: str) -> datetime:
    case = await StoryCase.file(intake, analytics, people, repair_case(title=title))
    await case.view_when(lambda v: v["status"] == "dispatched", what="dispatched")
    for command in ("accept", "start"):
        await case.do(command, "staff")
    await case.do("complete", "staff", result="washer replaced")
    view = await case.view_when(lambda v: any(d["rule"] == "return_visit_made" for d in v["deadlines"]),
                                what="return visit owed")
    due = next(d["due_at"] for d in view["deadlines"] if d["rule"] == "return_visit_made")
    return datetime.fromisoformat(due).astimezone(SHANGHAI)


async def test_a_holiday_the_group_admin_loads_moves_a_return_visit_past_it(intake, analytics, people):
    owed = (await _return_visit_due(intake, analytics, people, "Tap dripping")).date()
    year = owed.year
    shipped = await _calendar(intake, people, year)
    table = {"holidays": sorted({*shipped["holidays"], owed.isoformat()}),
             "working_days": [d for d in shipped["working_days"] if d != owed.isoformat()]}
    loaded = await intake.put(f"/v1/calendar/{year}", headers=people["admin"], json=table)
    assert loaded.status_code == 200, loaded.text
    try:
        in_force = await _calendar(intake, people, year)
        assert (in_force["source"], in_force["version"], in_force["set_by"]) == (
            "loaded", loaded.json()["version"], "group-admin-lin")
        assert owed.isoformat() in in_force["holidays"]
        # the day owed is now a holiday: the visit is owed the next working day of the loaded table
        tables = {year: YearTable(frozenset(map(date.fromisoformat, table["holidays"])),
                                  frozenset(map(date.fromisoformat, table["working_days"])))}
        expected = owed + timedelta(days=1)
        while not is_working_day(expected, tables):
            expected += timedelta(days=1)
        moved = await _return_visit_due(intake, analytics, people, "Tap dripping again")
        assert moved.date() == expected
    finally:  # later tests count working days by the table they knew
        restored = await intake.put(f"/v1/calendar/{year}", headers=people["admin"], json={
            "holidays": shipped["holidays"], "working_days": shipped["working_days"]})
        assert restored.status_code == 200, restored.text
