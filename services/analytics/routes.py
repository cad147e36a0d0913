"""The query API of SPEC §5: case views and lists."""
from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from estatedesk.auth import GROUP_ROLES
from estatedesk.inputs import ID_PATTERN
from estatedesk.web.params import CaseIdPath, EstateIdQuery, IdQuery, Moment, Position, SearchText, in_range
from estatedesk.web.security import PrincipalDep

from estatedesk.lifecycle import DEPARTMENT_BOUND, MAILBOX_ROLE, allowed_commands

from . import projection
from .domain.case_view import CONFIDENTIAL_READERS, for_reader, household_of, lifecycle_of, mailbox_items, public
from .freshness import wait_until_applied
from .staff import departments_of

router = APIRouter(prefix="/v1", tags=["cases"])
Cursor = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_=-]{1,200}$", description="`next_cursor` of the last page")]


STAFF_ROLES = frozenset({"front_desk", "butler", "supervisor", "department_staff", "department_head",
                         "estate_manager", "general_manager"})
MAILBOX_READERS = frozenset({MAILBOX_ROLE, *GROUP_ROLES})
MailboxState = Annotated[Literal["open", "all"], Query(description="open: not yet acknowledged; all: read ones too")]


async def _fresh(request: Request, response: Response, min_position: int | None, case_id: str | None = None) -> None:
    if min_position is not None and not await wait_until_applied(
            request.app.state.pool, min_position, case_id=case_id):
        response.headers["X-Projection-Stale"] = "true"


@router.get("/cases/{case_id}")
async def get_case(case_id: CaseIdPath, principal: PrincipalDep, request: Request, response: Response,
                   min_position: Position = None) -> dict:
    """The current view of one case: its content, status, what it waits for, the commands the
    caller may give now (`allowed_commands`, by state and role; for department staff only on
    a case routed to their department), departments, the deadline
    ledger, escalations, the complaint file card once one is opened (`file_card`) and the
    history with who wrote what. Staff of the case's estate see the reporter's name and phone,
    on the file card too; everyone else sees them masked."""
    await _fresh(request, response, min_position, case_id)
    view = await projection.case_view(request.app.state.pool, case_id)
    if view is None or not principal.may_see_case(view["estate_id"], household_of(view)):
        raise HTTPException(404, f"no case {case_id} in your estates")
    departments = await departments_of(request.app.state.pool, [view["estate_id"]], principal.user) \
        if principal.role in DEPARTMENT_BOUND else []
    allowed = allowed_commands(lifecycle_of(view), principal.role, departments)
    view = {**for_reader(public(view), principal.role), "allowed_commands": allowed}
    if principal.role in STAFF_ROLES and view["estate_id"] in principal.estates:
        contact = await projection.reporter_contact(request.app.state.pool, case_id)
        view["reporter"] = {**view["reporter"], **contact}
        if view.get("file_card"):
            view["file_card"] = {**view["file_card"], "complainant": {**view["file_card"]["complainant"], **contact}}
    return view


@router.get("/cases")
async def list_cases(
    principal: PrincipalDep, request: Request,
    estate_id: EstateIdQuery = None, status: IdQuery = None, type: IdQuery = None,
    department: IdQuery = None, breached: bool | None = None,
    assignee: Annotated[IdQuery, Query(description="Cases assigned to this user")] = None,
    coordinator: Annotated[IdQuery, Query(description="Cases this grid butler coordinates")] = None,
    household_id: Annotated[IdQuery, Query(description="Cases reported by this household")] = None,
    due_before: Annotated[Moment | None, Query(description="Cases with a deadline still owed before this time")] = None,
    q: SearchText = None,
    mine: Annotated[bool, Query(description="Assigned to me, coordinated by me, or routed to my department")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Cursor = None,
    min_position: Position = None, response: Response = None,
) -> dict:
    """Cases newest first, filtered; pass `next_cursor` back as `cursor` for the next page.
    A resident's list holds only their own household's cases."""
    await _fresh(request, response, min_position)
    if estate_id is not None and not principal.may_act_on(estate_id):
        raise HTTPException(403, f"your token does not cover estate {estate_id}")
    if principal.role == "resident":
        if principal.household is None or household_id not in (None, principal.household):
            return {"items": [], "next_cursor": None}
        household_id = principal.household
    estates = [estate_id] if estate_id else (None if principal.is_group else list(principal.estates))
    pool = request.app.state.pool
    case_filter = projection.CaseFilter(
        estates=estates, status=status, type=type, department=department, breached=breached, assignee=assignee,
        coordinator=coordinator, household_id=household_id, due_before=due_before, text=q,
        confidential_text=principal.role in CONFIDENTIAL_READERS,
        mine=(principal.user, await departments_of(pool, estates or list(principal.estates), principal.user))
        if mine else None)
    items = await projection.list_views(pool, case_filter, limit=limit, after=_decode_cursor(cursor))
    next_cursor = _encode_cursor(items[-1]) if len(items) == limit else None
    return {"items": [for_reader(public(item), principal.role) for item in items], "next_cursor": next_cursor}


@router.get("/mailbox", tags=["general manager's mailbox"])
async def mailbox(
    principal: PrincipalDep, request: Request, response: Response, estate_id: EstateIdQuery = None,
    state: MailboxState = "open",
    limit: Annotated[int, Query(ge=1, le=500, description="Cases per page")] = 50,
    cursor: Cursor = None, min_position: Position = None,
) -> dict:
    """The general manager's mailbox (总经理信箱, 002 §4.2.3): every escalation to the general
    manager — a second complaint on the same matter, or a deadline a policy escalates that far —
    with when it was raised and why, and once acknowledged by whom, when and with what remark.
    Newest case first, for the general manager of the estates on the token and for group roles."""
    if principal.role not in MAILBOX_READERS:
        raise HTTPException(403, "the general manager's mailbox is read by the general manager and the group")
    if estate_id is not None and not principal.may_act_on(estate_id):
        raise HTTPException(403, f"your token does not cover estate {estate_id}")
    await _fresh(request, response, min_position)
    estates = [estate_id] if estate_id else (None if principal.is_group else list(principal.estates))
    views = await projection.list_views(request.app.state.pool, projection.CaseFilter(estates=estates, mailbox=state),
                                        limit=limit, after=_decode_cursor(cursor))
    return {"items": [item for view in views
                      for item in mailbox_items(for_reader(public(view), principal.role), state == "open")],
            "next_cursor": _encode_cursor(views[-1]) if len(views) == limit else None}


def _encode_cursor(view: dict) -> str:
    return base64.urlsafe_b64encode(f"{view['received_at']}|{view['case_id']}".encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, case_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        received_at = datetime.fromisoformat(at)
    except ValueError:  # bad base64, bad UTF-8, no separator or no time
        received_at, case_id = None, ""
    if received_at is None or received_at.tzinfo is None or not in_range(received_at) \
            or not re.match(ID_PATTERN, case_id):
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "cursor"), "input": cursor,
                                       "msg": "cursor is not one this API returned"}])
    return received_at, case_id
