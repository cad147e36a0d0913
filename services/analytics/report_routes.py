"""Monthly statistics, their export, the month's complaint file cards, the live dashboard and
the handover list (SPEC §5)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response

from estatedesk.auth import GROUP_ROLES
from estatedesk.web.params import EstateIdQuery, MonthQuery
from estatedesk.web.security import PrincipalDep

from . import boards, export, file_cards, stats

router = APIRouter(prefix="/v1", tags=["statistics and boards"])


def _scope(principal, estate_id: str | None) -> str | None:
    if principal.role == "resident":  # figures and boards span other households' cases
        raise HTTPException(403, "statistics and boards are for staff")
    if estate_id is None and not principal.is_group:
        if len(principal.estates) != 1:
            raise HTTPException(403, "group-wide figures are for group roles; name one of your estates")
        return principal.estates[0]
    if estate_id is not None and not principal.may_act_on(estate_id):
        raise HTTPException(403, f"your token does not cover estate {estate_id}")
    return estate_id


async def _report(request: Request, principal, month: str, estate_id: str | None) -> dict:
    return await stats.monthly(request.app.state.pool, month, _scope(principal, estate_id))


@router.get("/stats/monthly")
async def monthly(principal: PrincipalDep, request: Request, month: MonthQuery,
                  estate_id: EstateIdQuery = None) -> dict:
    """Every monthly figure of 003 §4.10 for one estate, or group-wide without `estate_id`."""
    return await _report(request, principal, month, estate_id)


@router.get("/stats/monthly.csv")
async def monthly_csv(principal: PrincipalDep, request: Request, month: MonthQuery,
                      estate_id: EstateIdQuery = None) -> Response:
    """The monthly report as CSV (UTF-8 with BOM), headers in Chinese and English."""
    report = await _report(request, principal, month, estate_id)
    return Response(export.to_csv(report), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{export.filename(estate_id, month, "csv")}"'})


@router.get("/stats/monthly.xlsx")
async def monthly_xlsx(principal: PrincipalDep, request: Request, month: MonthQuery,
                       estate_id: EstateIdQuery = None) -> Response:
    """The monthly report as an Excel workbook."""
    report = await _report(request, principal, month, estate_id)
    return Response(export.to_xlsx(report),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f'attachment; filename="{export.filename(estate_id, month, "xlsx")}"'})


# The file card is the desk's record (002 §4.2.1, §4.5): the desk, its supervisor and managers
# keep it; the departments see a card on the case they work on.
FILE_CARD_READERS = frozenset({"front_desk", "butler", "supervisor", "estate_manager", "general_manager",
                               "group_service_center", "group_admin"})


async def _cards(request: Request, principal, month: str, estate_id: str | None) -> dict:
    if principal.role not in FILE_CARD_READERS:
        raise HTTPException(403, "complaint file cards are kept by the desk, its supervisor and managers")
    scope = _scope(principal, estate_id)
    return {"month": month, "estate_id": scope,
            "items": await file_cards.of_month(request.app.state.pool, month, scope)}


@router.get("/file-cards")
async def file_cards_of_month(principal: PrincipalDep, request: Request, month: MonthQuery,
                              estate_id: EstateIdQuery = None) -> dict:
    """The complaint file cards (投诉处理档案卡) of the complaints received in the month, for one
    estate or group-wide: each opened when the complaint missed its completion deadline and
    filled as the case went on. As many as the month's `file_cards_opened` figure."""
    return await _cards(request, principal, month, estate_id)


@router.get("/file-cards.csv")
async def file_cards_csv(principal: PrincipalDep, request: Request, month: MonthQuery,
                         estate_id: EstateIdQuery = None) -> Response:
    """The month's complaint file cards as CSV (UTF-8 with BOM), one row each, headers in Chinese and English."""
    cards = await _cards(request, principal, month, estate_id)
    return Response(export.cards_to_csv(cards["items"]), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{export.filename(estate_id, month, "csv", "file-cards")}"'})


# The register is kept at the desk and read by the group centre (002 §4.2.2).
GROUP_REGISTER_READERS = GROUP_ROLES | {"front_desk", "supervisor", "estate_manager", "general_manager"}


@router.get("/group-register", responses={403: {"description": "Not a role that keeps or reads the register"}})
async def group_register(principal: PrincipalDep, request: Request, month: MonthQuery,
                         estate_id: EstateIdQuery = None) -> dict:
    """The complaints transferred by the group centre or the quality office and received in
    `month`, each with its group reference, every progress note and the final result reported
    back to the group; for the group roles across every estate, for the desk and the estate's
    managers in their own estates."""
    if principal.role not in GROUP_REGISTER_READERS:
        raise HTTPException(403, f"the group register is not for a {principal.role}")
    if estate_id is not None and not principal.may_act_on(estate_id):
        raise HTTPException(403, f"your token does not cover estate {estate_id}")
    estates = [estate_id] if estate_id else (None if principal.is_group else list(principal.estates))
    items = await stats.group_register(request.app.state.pool, month, estates)
    return {"month": month, "estate_id": estate_id, "items": items}


@router.get("/dashboard")
async def dashboard(principal: PrincipalDep, request: Request, estate_id: EstateIdQuery = None) -> dict:
    """Open cases by state and department, cases within 30 minutes of a deadline, today's breaches."""
    now = request.app.state.clock()
    day_start = now.astimezone(ZoneInfo("Asia/Shanghai")).replace(hour=0, minute=0, second=0, microsecond=0)
    return await boards.dashboard(request.app.state.pool, _scope(principal, estate_id), now, day_start)


@router.get("/handover")
async def handover(principal: PrincipalDep, request: Request, estate_id: EstateIdQuery = None) -> dict:
    """Every open item for the next shift, oldest first (002 §4.6)."""
    return await boards.handover(request.app.state.pool, _scope(principal, estate_id))
