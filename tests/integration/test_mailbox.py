"""The general manager's mailbox (总经理信箱, 002 §4.2.3) on the real stack: a second complaint on
the same matter reaches the general manager, who acknowledges it with a remark; one left unread
past its deadline is escalated to the group."""
from __future__ import annotations

import re
import uuid
from zoneinfo import ZoneInfo

import httpx
import pytest

from estatedesk.demo import staffed_estate
from services.console.auth import accounts
from tests.conftest import token_for
from tests.support import StoryCase, eventually, repair_case, stack_now

RULE = "mailbox_acknowledged"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _people(stack, estate: str) -> dict:
    low = estate.lower()
    return {"desk": token_for(stack, "front_desk", (estate,), f"{low}-desk-zhao"),
            "manager": token_for(stack, "estate_manager", (estate,), f"{low}-manager-wei"),
            "gm": token_for(stack, "general_manager", (estate,), f"{low}-gm-he"),
            "other_gm": token_for(stack, "general_manager", ("E002",), "e002-gm-he"),
            "group": token_for(stack, "group_service_center", (), "group-center-lin")}


async def _estate(stack, intake, sla_block: dict | None = None) -> tuple[str, dict]:
    estate = f"EMB{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    body = staffed_estate("Mailbox Gardens 信箱苑", estate, 2).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate}", json=body, headers=admin)).status_code == 200
    people = _people(stack, estate)
    if sla_block:
        answer = await intake.put(f"/v1/estates/{estate}/policy", json={"sla": sla_block}, headers=people["manager"])
        assert answer.status_code == 200, answer.text
    return estate, people


def _complaint(estate: str, **complaint) -> dict:
    return repair_case(estate=estate, type="complaint", category="noise", title="Night-time drilling next door",
                       repair=None, complaint={"origin": "resident", **complaint},
                       location={"building": "1", "unit": "1", "room": "0301"},
                       reporter={"name": "李先生", "phone": "13900002222", "household_id": "H-1-1-0301"})


async def _repeat(stack, intake, analytics, sla_block: dict | None = None) -> tuple[StoryCase, str, dict]:
    estate, people = await _estate(stack, intake, sla_block)
    first = await StoryCase.file(intake, analytics, people, _complaint(estate))
    again = await StoryCase.file(intake, analytics, people, _complaint(estate, related_case_id=first.case_id))
    return again, estate, people


async def _mailbox(analytics, people, who: str, expect: int = 200, **params) -> dict:
    answer = await analytics.get("/v1/mailbox", params=params, headers=people[who])
    assert answer.status_code == expect, answer.text
    return answer.json()


def _of(listing: dict, case_id: str) -> list[dict]:
    return [i for i in listing["items"] if i["case_id"] == case_id]


def _clock(view: dict) -> list[dict]:
    return [d for d in view["deadlines"] if d["rule"] == RULE]


async def test_a_repeat_complaint_reaches_the_general_manager_who_acknowledges_it_with_a_remark(
        stack, intake, analytics):
    case, estate, people = await _repeat(stack, intake, analytics)

    async def in_mailbox():
        return _of(await _mailbox(analytics, people, "gm", estate_id=estate), case.case_id)
    [item] = await eventually(in_mailbox, what="the repeat complaint in the general manager's mailbox")
    assert "总经理信箱" in item["reason"] and item["acknowledged_at"] is None and item["repeat_of"]
    view = await case.view_when(lambda v: _clock(v), what="the mailbox clock", who="gm")
    assert "acknowledge-mailbox" in view["allowed_commands"] and not _clock(view)[0]["met_at"]
    assert _of(await _mailbox(analytics, people, "gm"), case.case_id)  # the estates on the token, by default

    await case.do("acknowledge-mailbox", "desk", 403, remark="read")  # not the desk's letter to read
    refused = await case.do("acknowledge-mailbox", "gm", 422, remark="")
    assert [e["loc"] for e in refused["detail"]] == [["body", "remark"]]
    await case.do("acknowledge-mailbox", "gm", 422, remark="   ")
    done = await case.do("acknowledge-mailbox", "gm", remark="read; the estate manager calls the resident today")
    assert done["events"] == ["MailboxItemAcknowledged"] and "acknowledge-mailbox" not in done["allowed_commands"]
    await case.do("acknowledge-mailbox", "gm", 409, remark="read twice")  # nothing is left open

    fresh = {"min_position": done["position"], "estate_id": estate}
    assert _of(await _mailbox(analytics, people, "gm", **fresh), case.case_id) == []
    [read] = _of(await _mailbox(analytics, people, "gm", state="all", **fresh), case.case_id)
    assert (read["acknowledged_by"], read["remark"]) == (f"{estate.lower()}-gm-he",
                                                         "read; the estate manager calls the resident today")
    view = await case.view_when(lambda v: _clock(v)[0]["met_at"], what="the mailbox clock met", who="gm")
    assert not _clock(view)[0]["breached"] and not [e for e in view["escalations"] if e["rule"] == RULE]
    month = stack_now().astimezone(SHANGHAI).strftime("%Y-%m")
    report = await analytics.get("/v1/stats/monthly", params={"month": month, "estate_id": estate},
                                 headers=people["manager"])
    assert report.json()["mailbox_items"] == {"raised": 1, "acknowledged": 1}


async def test_an_item_left_unread_past_its_deadline_is_escalated_to_the_group(stack, intake, analytics):
    # the estate gives its general manager no time at all: the clock runs out as soon as it starts
    case, estate, people = await _repeat(stack, intake, analytics,
                                         {"rules": {RULE: {"target_minutes": 0, "clock": "24x7"}}})
    view = await case.view_when(lambda v: [e for e in v["escalations"] if e["rule"] == RULE],
                                what="the group told of the unread item", who="gm")
    assert [(e["level"], e["to_role"]) for e in view["escalations"] if e["rule"] == RULE] == \
        [(1, "group_service_center")]
    assert _clock(view)[0]["breached"]
    assert _of(await _mailbox(analytics, people, "group", estate_id=estate), case.case_id)  # the group reads it too
    done = await case.do("acknowledge-mailbox", "gm", remark="late: I was travelling")
    view = await case.view_when(lambda v: _clock(v)[0]["met_at"], what="the late acknowledgement", who="gm")
    assert _clock(view)[0]["breached"]  # a breach stays a breach
    assert _of(await _mailbox(analytics, people, "group", estate_id=estate, min_position=done["position"]),
               case.case_id) == []


@pytest.mark.parametrize("who, params, status", [
    ("desk", {}, 403),                                   # the mailbox is the general manager's
    ("other_gm", {"estate_id": "EMBNOPE1"}, 403),         # and only of the estates on the token
    ("gm", {"state": "unread"}, 422),
    ("gm", {"limit": 0}, 422),
])
async def test_who_may_read_the_mailbox(stack, analytics, who, params, status):
    await _mailbox(analytics, _people(stack, "EMBNOPE1"), who, status, **params)


async def test_the_general_manager_reads_and_acknowledges_in_the_console(stack, intake, analytics, pool):
    case, estate, people = await _repeat(stack, intake, analytics)
    user = f"gm-{uuid.uuid4().hex[:6]}"
    await accounts.add_account(pool, user_id=user, display_name="何总", role="general_manager", estates=[estate],
                               password="right-password")
    async with httpx.AsyncClient(base_url=stack.url("console"), timeout=10) as console:
        signed_in = await console.post("/login", data={"user": user, "password": "right-password", "next": "/"})
        assert signed_in.status_code == 303, signed_in.text[:300]

        async def listed():
            page = await console.get("/mailbox", params={"estate_id": estate})
            return page.text if f'id="ack-{case.case_id}"' in page.text else None
        page = await eventually(listed, what="the case on the console's mailbox page")
        assert "总经理信箱" in page
        [csrf] = set(re.findall(r'name="csrf" value="([0-9a-f]+)"', page))
        blank = await console.post(f"/cases/{case.case_id}/acknowledge-mailbox", data={"csrf": csrf, "remark": ""})
        assert blank.status_code == 422
        done = await console.post(f"/cases/{case.case_id}/acknowledge-mailbox",
                                  data={"csrf": csrf, "remark": "已阅，请管理处经理今天回访"})
        assert done.status_code == 303, done.text[:300]

        async def gone():
            page = await console.get("/mailbox", params={"estate_id": estate})
            return page.status_code == 200 and case.case_id not in page.text
        await eventually(gone, what="the acknowledged case off the open list")
        read = await console.get("/mailbox", params={"estate_id": estate, "state": "all"})
        assert "已阅，请管理处经理今天回访" in read.text and f'id="ack-{case.case_id}"' not in read.text
