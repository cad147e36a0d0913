"""The complaint file card (投诉处理档案卡, 002 §4.2.1) on the real stack: a complaint still open
24 h after it came in gets a card, the card fills as the case goes on, the month lists and
exports its cards and counts them, and only the desk and its managers read the register."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from estatedesk.demo import staffed_estate
from tests.conftest import token_for
from tests.support import StoryCase, repair_case, signed_in_console, stack_now

NAME, PHONE = "林先生", "13912348888"


@pytest.fixture(scope="module")
async def estate(stack, intake):
    """An estate of this module's own, so its month holds only these tests' file cards."""
    estate_id = f"F{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    body = staffed_estate("File Card Court 档案苑", estate_id, 2).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate_id}", json=body, headers=admin)).status_code == 200
    low = estate_id.lower()
    return {"id": estate_id, "desk": token_for(stack, "front_desk", (estate_id,), f"{low}-desk-zhao"),
            "supervisor": token_for(stack, "supervisor", (estate_id,), f"{low}-supervisor-qian"),
            "staff": token_for(stack, "department_staff", (estate_id,), f"{low}-clean-chen"),
            "resident": token_for(stack, "resident", (estate_id,), "resident-lin", household="H-1-1-0302"),
            "elsewhere": token_for(stack, "front_desk", ("E002",), "e002-desk-zhao")}


def _complaint(estate_id: str, hours_ago: float) -> dict:
    return repair_case(estate=estate_id, type="complaint", category="service", title="物业费账单错误 wrong fee bill",
                       description="连续两个月多收了停车费", repair=None, complaint={"origin": "resident"},
                       location={"building": "1", "unit": "1", "room": "0302"},
                       reporter={"name": NAME, "phone": PHONE, "household_id": "H-1-1-0302"},
                       received_at=(stack_now() - timedelta(hours=hours_ago)).isoformat())


def _month(received_at: str) -> str:
    return datetime.fromisoformat(received_at).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


async def test_a_complaint_open_past_24_hours_gets_a_card_that_fills_as_it_proceeds(
        stack, pool, intake, analytics, estate):
    late = await StoryCase.file(intake, analytics, estate, _complaint(estate["id"], 25), view_timeout=20)
    fresh = await StoryCase.file(intake, analytics, estate, _complaint(estate["id"], 1), view_timeout=20)
    view = await late.view_when(lambda v: v["file_card"] and v["status"] == "dispatched", "the file card opened")
    card = view["file_card"]
    [deadline] = [d for d in view["deadlines"] if d["rule"] == "complaint_completed"]
    assert card["opened_at"] == deadline["breached_at"] and card["obligation_id"] == deadline["obligation_id"]
    assert card["complainant"]["name"] == NAME  # the desk of the estate reads who complained
    assert card["matter"]["title"] == "物业费账单错误 wrong fee bill" and card["matter"]["origin"] == "resident"
    assert card["received_at"] == view["received_at"] and card["dispatched_at"] and card["result"] is None
    assert (await fresh.view_when(lambda v: v["deadlines"], "the fresh complaint's clock"))["file_card"] is None

    steps = [("accept", "supervisor", {}), ("progress", "supervisor", {"note": "账单已退回财务 bill sent back"}),
             ("start", "supervisor", {}), ("complete", "supervisor", {"result": "多收费用已退还 refunded"}),
             ("inspect", "desk", {"passed": True, "inspector_role": "owner"}),
             ("review", "supervisor", {"notes": "退款凭证已核对 refund checked"}),
             ("return-visit", "desk", {"method": "phone", "satisfaction": "satisfied", "comments": "处理得好"}),
             ("archive", "desk", {})]
    for command, who, body in steps:
        answer = await late.do(command, who, **body)
    card = (await late.view("desk", answer["position"]))["file_card"]
    assert card["department"] == "customer_service"
    assert [m["text"] for m in card["measures"]] == ["账单已退回财务 bill sent back", "多收费用已退还 refunded"]
    assert card["result"] == "多收费用已退还 refunded" and card["completed_at"] and card["closed_at"]
    assert (card["resident_opinion"]["satisfaction"], card["resident_opinion"]["comments"]) == ("satisfied", "处理得好")
    assert [r["text"] for r in card["supervisor_remarks"]] == ["退款凭证已核对 refund checked"]

    month = _month(view["received_at"])
    query = {"estate_id": estate["id"], "month": month}
    listed = await analytics.get("/v1/file-cards", params=query, headers=estate["supervisor"])
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert (item["case_id"], item["status"], item["result"]) == (late.case_id, "archived", "多收费用已退还 refunded")
    assert NAME not in listed.text and PHONE not in listed.text  # the register keeps the masked reporter
    stats = (await analytics.get("/v1/stats/monthly", params=query, headers=estate["supervisor"])).json()
    assert stats["file_cards_opened"] == 1

    exported = await analytics.get("/v1/file-cards.csv", params=query, headers=estate["desk"])
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert f"file-cards-{estate['id']}-{month}.csv" in exported.headers["content-disposition"]
    header, *rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    [row] = [dict(zip(header, r)) for r in rows]
    assert row["案件编号 / Case"] == late.case_id and row["处理结果 / Result"] == "多收费用已退还 refunded"
    assert row["主管意见 / Supervisor's remarks"] == "退款凭证已核对 refund checked"
    assert NAME not in exported.text and PHONE not in exported.text

    console = await _signed_in(stack, pool, "front_desk", estate["id"])
    try:
        page = await console.get(f"/cases/{late.case_id}")
        assert page.status_code == 200 and 'id="file-card"' in page.text
        assert "多收费用已退还 refunded" in page.text and "退款凭证已核对 refund checked" in page.text
        board = await console.get("/boards/file-cards", params=query)
        assert board.status_code == 200 and f'data-case="{late.case_id}"' in board.text
        assert "多收费用已退还 refunded" in board.text and NAME not in board.text
        download = await console.get("/boards/file-cards.csv", params=query)
        assert download.status_code == 200 and download.text == exported.text  # the same file, passed on
    finally:
        await console.aclose()


async def _signed_in(stack, pool, role: str, estate_id: str) -> httpx.AsyncClient:
    return await signed_in_console(stack, pool, role, [estate_id])


@pytest.mark.parametrize("path", ["/v1/file-cards", "/v1/file-cards.csv"])
@pytest.mark.parametrize("who", ["staff", "resident", "elsewhere"])
async def test_departments_residents_and_other_estates_do_not_read_the_register(analytics, estate, path, who):
    response = await analytics.get(path, params={"estate_id": estate["id"], "month": _month(stack_now().isoformat())},
                                   headers=estate[who])
    assert response.status_code == 403, response.text
    assert "content-disposition" not in response.headers


@pytest.mark.parametrize("path", ["/v1/file-cards", "/v1/file-cards.csv"])
@pytest.mark.parametrize("params, name", [({}, "month"), ({"month": "2026-11", "estate_id": "E\x00"}, "estate_id"),
                                          ({"month": "2026-11", "estate_id": "-x"}, "estate_id")])
async def test_junk_query_parameters_are_refused_by_name(analytics, estate, path, params, name):
    response = await analytics.get(path, params=params, headers=estate["desk"])
    assert response.status_code == 422, response.text
    assert ["query", name] in [error["loc"] for error in response.json()["detail"]]
