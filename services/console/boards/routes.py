"""Boards: the live dashboard (short polling), the printable handover list, the monthly report."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from ..api_client import explain
from ..web import UserDep, render

router = APIRouter()
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _estate(user, asked: str) -> str | None:
    if asked:
        return asked
    return None if user.is_group else user.home_estate


async def _dashboard_context(request: Request, user, estate_id: str | None) -> dict:
    api = request.app.state.api
    board = await api.dashboard(user.token, estate_id)
    breached = await api.cases(user.token, estate_id=estate_id, breached="true", limit=100)
    closed = ("archived", "cancelled", "merged")
    return {"board": board.data if board.ok else {}, "estate_id": estate_id or "",
            "problem": "" if board.ok else explain(board).general,
            "breached": [c for c in breached.get("items", []) if c.get("status") not in closed] if breached.ok else [],
            "fetched_at": request.app.state.clock().isoformat()}


@router.get("/boards/dashboard")
async def dashboard(request: Request, user: UserDep, estate_id: str = ""):
    return render(request, "boards/dashboard.html", **await _dashboard_context(request, user, _estate(user, estate_id)))


@router.get("/boards/dashboard/live")
async def dashboard_live(request: Request, user: UserDep, estate_id: str = ""):
    """The dashboard's figures as an HTML fragment; the page swaps it in every few seconds."""
    return render(request, "boards/dashboard_live.html",
                  **await _dashboard_context(request, user, _estate(user, estate_id)))


@router.get("/boards/handover")
async def handover(request: Request, user: UserDep, estate_id: str = ""):
    estate = _estate(user, estate_id)
    answer = await request.app.state.api.handover(user.token, estate)
    return render(request, "boards/handover.html", items=answer.get("items", []) if answer.ok else [],
                  problem="" if answer.ok else explain(answer).general, estate_id=estate or "",
                  printed_at=request.app.state.clock().isoformat())


def _bars(mapping: dict | None) -> list[tuple[str, float, int]]:
    """(label, share of the largest, value) for CSS bars."""
    items = [(str(k), v) for k, v in (mapping or {}).items() if isinstance(v, (int, float))]
    top = max((v for _, v in items), default=0) or 1
    return [(k, round(100 * v / top, 1), v) for k, v in sorted(items, key=lambda kv: -kv[1])]


def _month(request: Request, month: str) -> str:
    if month and not MONTH.match(month):
        raise HTTPException(422, "month: must be YYYY-MM")
    return month or request.app.state.clock().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


@router.get("/boards/group-register")
async def group_register(request: Request, user: UserDep, month: str = "", estate_id: str = ""):
    """The group's complaint register of a month (002 §4.2.2), as analytics answers it."""
    month = _month(request, month)
    answer = await request.app.state.api.group_register(user.token, month, estate_id or None)
    return render(request, "boards/group_register.html", items=answer.get("items", []) if answer.ok else [],
                  month=month, estate_id=estate_id, problem="" if answer.ok else explain(answer).general)


@router.get("/boards/monthly")
async def monthly(request: Request, user: UserDep, month: str = "", estate_id: str = ""):
    month = _month(request, month)
    estate = _estate(user, estate_id)
    answer = await request.app.state.api.monthly(user.token, month, estate)
    report = answer.data if answer.ok else {}
    query = f"month={month}" + (f"&estate_id={estate}" if estate else "")
    return render(request, "boards/monthly.html", report=report, month=month, estate_id=estate or "",
                  problem="" if answer.ok else explain(answer).general, bars=_bars, query=query,
                  compliance=_compliance(report))


def _compliance(report: dict) -> list[tuple[str, float | None]]:
    rules = report.get("sla_compliance") or report.get("compliance_by_rule") or {}
    out = []
    for rule, value in rules.items() if isinstance(rules, dict) else []:
        share = value.get("compliance") if isinstance(value, dict) else value
        out.append((rule, share if isinstance(share, (int, float)) else None))
    return out


@router.get("/boards/monthly.{fmt}")
async def monthly_export(fmt: str, request: Request, user: UserDep, month: str, estate_id: str = ""):
    """The CSV/XLSX of analytics, fetched with the user's token (the browser holds no bearer token)."""
    if fmt not in ("csv", "xlsx") or not MONTH.match(month):
        raise HTTPException(404, "no such export")
    return await _passed_on(request, user, f"/v1/stats/monthly.{fmt}", month, estate_id)


@router.get("/boards/file-cards")
async def file_cards(request: Request, user: UserDep, month: str = "", estate_id: str = ""):
    """The month's complaint file cards (投诉处理档案卡, 002 §4.2.1), as analytics answers them."""
    month = _month(request, month)
    estate = _estate(user, estate_id)
    answer = await request.app.state.api.file_cards(user.token, month, estate)
    query = f"month={month}" + (f"&estate_id={estate}" if estate else "")
    return render(request, "boards/file_cards.html", items=answer.get("items", []) if answer.ok else [],
                  month=month, estate_id=estate or "", query=query,
                  problem="" if answer.ok else explain(answer).general)


@router.get("/boards/file-cards.csv")
async def file_cards_export(request: Request, user: UserDep, month: str, estate_id: str = ""):
    if not MONTH.match(month):
        raise HTTPException(404, "no such export")
    return await _passed_on(request, user, "/v1/file-cards.csv", month, estate_id)


async def _passed_on(request: Request, user, path: str, month: str, estate_id: str) -> Response:
    """A file analytics serves, fetched with the user's token and handed to the browser as it is."""
    api = request.app.state.api
    response = await api._client.get(f"{api.analytics_url}{path}",
                                     params={"month": month, **({"estate_id": estate_id} if estate_id else {})},
                                     headers={"Authorization": f"Bearer {user.token}"})
    if response.status_code != 200:
        raise HTTPException(response.status_code, "the file could not be exported")
    return Response(response.content, media_type=response.headers.get("content-type"),
                    headers={"Content-Disposition": response.headers.get("content-disposition", "attachment")})
