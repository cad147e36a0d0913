"""The command API: parse, hand to one use case, answer. No rules live here."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from estatedesk.inputs import Input, IsoDate, Text

from estatedesk.contracts.events import EstateConfigured
from estatedesk.streams import calendar_stream
from estatedesk.web.params import EstateIdPath, HouseholdIdPath, YearPath
from estatedesk.web.security import PrincipalDep, require_estate

from estatedesk.auth import ROLES

from .calendar import calendar_in_force, set_calendar
from .estates import configure_estate, estate_stream
from .handlers import Intake
from .erasure import erase_household
from .estates import report_daily_feedback
from .feedback_day import feedback_of_day
from .policy import policy_history, set_policy
from .schemas import CaseAccepted, CaseIn
from .fee_schedule import fee_schedule_history, set_fee_schedule
from .setup_models import EstateSetup, FeeScheduleIn, PolicyIn, WorkingCalendarIn

router = APIRouter(prefix="/v1")
ESTATE_ADMINS = frozenset({"estate_manager", "group_admin"})
FEEDBACK_ROLES = frozenset({"department_head", "supervisor", "estate_manager"})


def _intake(request: Request) -> Intake:
    return request.app.state.intake


@router.post("/cases", status_code=201, response_model=CaseAccepted, tags=["cases"],
             responses={409: {"description": "Idempotency-Key reused with another body"},
                        422: {"description": "Field-level validation errors"}})
async def post_case(body: CaseIn, principal: PrincipalDep, request: Request,
                    idempotency_key: Annotated[str | None, Header(max_length=200)] = None):
    """Receive a case at the front desk. A repeated `Idempotency-Key` returns the same case."""
    require_estate(principal, body.estate_id)
    status, payload = await _intake(request).receive_case(
        body.model_dump(mode="python"), principal, idempotency_key
    )
    return JSONResponse(payload, status_code=status)


@router.put("/estates/{estate_id}", tags=["estates"])
async def put_estate(estate_id: EstateIdPath, body: EstateSetup, principal: PrincipalDep, request: Request) -> dict:
    """Set up an estate (name, timezone, buildings, grids, staff); recorded as a new version."""
    require_estate(principal, estate_id)
    if principal.role not in ESTATE_ADMINS:
        raise HTTPException(403, "only an estate manager or group admin may set up an estate")
    intake = _intake(request)
    version = await configure_estate(
        intake.store, estate_id, EstateConfigured(**body.model_dump(mode="json")),
        actor=principal.user, clock=intake.clock,
    )
    return {"estate_id": estate_id, "version": version}


SETUP_READERS = frozenset(ROLES) - {"resident"}


@router.get("/estates/{estate_id}", tags=["estates"], responses={404: {"description": "No such estate"}})
async def get_estate(estate_id: EstateIdPath, principal: PrincipalDep, request: Request) -> dict:
    """The estate's current set-up (buildings, units, rooms, grids, staff) and its version."""
    _may_read_setup(principal, estate_id)
    events = await _intake(request).store.read_stream(estate_stream(estate_id))
    configured = [e for e in events if e.event_type == "EstateConfigured"]
    if not configured:
        raise HTTPException(404, f"no estate {estate_id}")
    latest = configured[-1]
    return {"estate_id": estate_id, "version": len(configured), "configured_at": latest.recorded_at.isoformat(),
            **latest.payload}


@router.get("/estates/{estate_id}/policy", tags=["estates"], responses={404: {"description": "No such estate"}})
async def get_policy(estate_id: EstateIdPath, principal: PrincipalDep, request: Request) -> dict:
    """The policy in force (version 0: the defaults), who set it and when, and every earlier version."""
    _may_read_setup(principal, estate_id)
    events = await _intake(request).store.read_stream(estate_stream(estate_id))
    if not any(e.event_type == "EstateConfigured" for e in events):
        raise HTTPException(404, f"no estate {estate_id}")
    return policy_history(estate_id, events)


def _may_read_setup(principal, estate_id: str) -> None:
    require_estate(principal, estate_id)
    if principal.role not in SETUP_READERS:
        raise HTTPException(403, "residents do not read an estate's set-up")


@router.put("/estates/{estate_id}/policy", tags=["estates"],
            responses={422: {"description": "Field-level problems with the rules"}})
async def put_policy(estate_id: EstateIdPath, body: PolicyIn, principal: PrincipalDep, request: Request) -> dict:
    """Set the estate's rules; recorded as a new version that applies from now on. Only the
    blocks the body carries are replaced; the others stay as the previous version had them."""
    require_estate(principal, estate_id)
    if principal.role not in ESTATE_ADMINS:
        raise HTTPException(403, "only an estate manager or group admin may change an estate's policy")
    intake = _intake(request)
    version = await set_policy(intake.store, estate_id, body.blocks(),
                               actor=principal.user, clock=intake.clock)
    return {"estate_id": estate_id, "version": version}


@router.put("/estates/{estate_id}/fee-schedule", tags=["estates"],
            responses={422: {"description": "Field-level problems with the items"}})
async def put_fee_schedule(estate_id: EstateIdPath, body: FeeScheduleIn, principal: PrincipalDep,
                           request: Request) -> dict:
    """Set the estate's price list for paid work (item code, name, unit, price); recorded as
    a new version that prices every completion from now on (003 §4.9)."""
    require_estate(principal, estate_id)
    if principal.role not in ESTATE_ADMINS:
        raise HTTPException(403, "only an estate manager or group admin may set an estate's fees")
    intake = _intake(request)
    version = await set_fee_schedule(intake.store, estate_id, [i.model_dump(mode="json") for i in body.items],
                                     actor=principal.user, clock=intake.clock)
    return {"estate_id": estate_id, "version": version}


@router.get("/estates/{estate_id}/fee-schedule", tags=["estates"], responses={404: {"description": "No such estate"}})
async def get_fee_schedule(estate_id: EstateIdPath, principal: PrincipalDep, request: Request) -> dict:
    """The fee schedule in force (version 0: none yet), who set it and when, and every
    earlier version."""
    _may_read_setup(principal, estate_id)
    events = await _intake(request).store.read_stream(estate_stream(estate_id))
    if not any(e.event_type == "EstateConfigured" for e in events):
        raise HTTPException(404, f"no estate {estate_id}")
    return fee_schedule_history(estate_id, events)


@router.put("/calendar/{year}", tags=["calendar"],
            responses={422: {"description": "A day outside the year, repeated, or in both lists"}})
async def put_calendar(year: YearPath, body: WorkingCalendarIn, principal: PrincipalDep, request: Request) -> dict:
    """Load the year's official holidays and adjusted working days (调休) for every estate;
    recorded as a new version that replaces the shipped table of that year. SLA clocks
    started from now on follow it; deadlines already announced stay where they are."""
    if principal.role != "group_admin":
        raise HTTPException(403, "only the group admin may load the working calendar")
    intake = _intake(request)
    version = await set_calendar(intake.store, year, body, actor=principal.user, clock=intake.clock)
    return {"year": year, "version": version}


@router.get("/calendar/{year}", tags=["calendar"])
async def get_calendar(year: YearPath, principal: PrincipalDep, request: Request) -> dict:
    """The year's working calendar in force: `source` is `loaded` (with its version, who and
    when), `default` (the table shipped with `chinese_calendar`) or `none` (Monday to Friday)."""
    if principal.role not in SETUP_READERS:
        raise HTTPException(403, "residents do not read the working calendar")
    return calendar_in_force(year, await _intake(request).store.read_stream(calendar_stream()))


class DailyFeedbackIn(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"department": "engineering", "summary": "12 orders: 10 done, 2 waiting for parts"}]})
    department: Literal["customer_service", "engineering", "security", "cleaning", "greening"]
    day: Annotated[IsoDate, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))] | None = Field(
        None, description="Default: today in the estate's timezone; never a day still to come")
    summary: Annotated[Text, Field(max_length=5000)] = ""


@router.post("/estates/{estate_id}/daily-feedback", tags=["estates"], status_code=201)
async def post_daily_feedback(estate_id: EstateIdPath, body: DailyFeedbackIn, principal: PrincipalDep,
                              request: Request) -> dict:
    """A department's report of the day's work orders, due by 17:00 estate time (002 §4.7)."""
    require_estate(principal, estate_id)
    if principal.role not in FEEDBACK_ROLES:
        raise HTTPException(403, "daily feedback is reported by a department head, supervisor or estate manager")
    intake = _intake(request)
    day = await report_daily_feedback(intake.store, estate_id, body.department, body.day, body.summary,
                                      actor=principal.user, clock=intake.clock)
    return {"estate_id": estate_id, "department": body.department, "day": day.isoformat()}


FeedbackDay = Annotated[IsoDate | None, Query(
    ge=date(2000, 1, 1), le=date(2100, 12, 31), description="YYYY-MM-DD; default: today in the estate's timezone")]


@router.get("/estates/{estate_id}/daily-feedback", tags=["estates"], responses={404: {"description": "No such estate"}})
async def get_daily_feedback(estate_id: EstateIdPath, principal: PrincipalDep, request: Request,
                             day: FeedbackDay = None) -> dict:
    """The day's feedback: each department reported, still pending, missed (then escalated to
    the supervisor and later the estate manager) or not owed that day (002 §4.7)."""
    _may_read_setup(principal, estate_id)
    intake = _intake(request)
    answer = await feedback_of_day(intake.store, estate_id, day, intake.clock())
    if answer is None:
        raise HTTPException(404, f"no estate {estate_id}")
    return answer


@router.post("/estates/{estate_id}/households/{household_id}/erase-personal-data", tags=["estates"])
async def erase_personal_data(estate_id: EstateIdPath, household_id: HouseholdIdPath, principal: PrincipalDep,
                              request: Request) -> dict:
    """Erase a household's names and phones from every case of the estate (PIPL); the case
    history, statistics and bills stay intact."""
    require_estate(principal, estate_id)
    if principal.role not in ESTATE_ADMINS:
        raise HTTPException(403, "only an estate manager or group admin may erase personal data")
    intake = _intake(request)
    cases = await erase_household(intake.store, intake.pool, estate_id, household_id, actor=principal.user,
                                  clock=intake.clock)
    return {"estate_id": estate_id, "household_id": household_id, "cases_erased": cases}
