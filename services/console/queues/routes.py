"""Work queues: my work, my department, waiting for inspection/review, return visits due,
and the complaints the group transferred."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from ..auth.accounts import get_account
from ..deadlines import next_deadline
from ..web import UserDep, render
from . import filters as f

router = APIRouter()
QUEUES = ("mine", "department", "waiting", "visits", "transferred")
DESK_ROLES = ("front_desk", "butler", "supervisor")


async def _department(request: Request, user, asked: str) -> str:
    if asked:
        return asked
    account = await get_account(request.app.state.pool, user.user)
    if account and account.get("department"):
        return account["department"]
    return "customer_service" if user.role in DESK_ROLES else ""


async def _fetch(request: Request, user, params: dict) -> tuple[list[dict], str]:
    answer = await request.app.state.api.cases(user.token, limit=200, **params)
    if not answer.ok:
        from ..api_client import explain
        return [], explain(answer).general
    return list(answer.get("items", [])), ""


@router.get("/queues/{queue}")
async def queue(queue: str, request: Request, user: UserDep, filters: Annotated[f.QueueFilters, Query()]):
    if queue not in QUEUES:
        raise HTTPException(404, f"no queue {queue}")
    now = request.app.state.clock()
    params = f.api_params(filters, now)
    department = ""
    problem = ""
    if queue == "mine":
        items, problem = await _fetch(request, user, {**params, "mine": "true"})
        items = [v for v in items if f.mine(v, user.user)]
    elif queue == "department":
        department = await _department(request, user, filters.department)
        items, problem = await _fetch(request, user, {**params, "department": department or None})
        items = [v for v in items if not department or department in (v.get("departments") or [])]
    elif queue == "waiting":
        items = []
        for status in ("completed", "inspected"):
            got, problem = await _fetch(request, user, {**params, "status": status})
            items += got
        items = [v for v in items if f.waiting_review(v)]
    elif queue == "visits":
        items = []
        for status in ("reviewed", "completed", "replied"):
            got, problem = await _fetch(request, user, {**params, "status": status})
            items += got
        items = [v for v in items if f.visit_due(v)]
    else:
        items, problem = await _fetch(request, user, {**params, "type": "complaint"})
        items = [v for v in items if f.group_transferred(v)]
    rows = [{"view": v, "deadline": next_deadline(v, now)} for v in items if f.keep(v, filters, now)]
    return render(request, "queues/queue.html", queue=queue, rows=rows, filters=filters, department=department,
                  problem=problem)
