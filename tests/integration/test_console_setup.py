"""The console's set-up pages (README "The console", Set-up): an estate manager reads and edits
the estate's policy as intake takes it, and intake's refusals are shown on the fields."""
from __future__ import annotations

import html
import re
import uuid

import httpx

from estatedesk.demo import staffed_estate
from tests.conftest import token_for
from tests.support import signed_in_console


async def _signed_in(stack, pool, role: str, estate_id: str) -> httpx.AsyncClient:
    return await signed_in_console(stack, pool, role, [estate_id])


def _csrf(page: str) -> str:
    [csrf] = set(re.findall(r'name="csrf" value="([0-9a-f]+)"', page))
    return csrf


def _field_error(page: str, name: str) -> str:
    found = re.search(rf'id="s-{name}-error"[^>]*>([^<]*)<', page)
    return html.unescape(found.group(1)) if found else ""


async def test_an_estate_manager_edits_the_policy_and_sees_intakes_refusals_on_the_fields(stack, pool, intake):
    estate_id = f"ES{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    set_up = staffed_estate("Set-up Court 设置苑", estate_id, 2).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate_id}", json=set_up, headers=admin)).status_code == 200

    desk = await _signed_in(stack, pool, "front_desk", estate_id)
    manager = await _signed_in(stack, pool, "estate_manager", estate_id)
    try:
        assert (await desk.get(f"/setup/{estate_id}")).status_code == 403
        page = await manager.get(f"/setup/{estate_id}")
        assert page.status_code == 200 and "Set-up Court 设置苑" in page.text
        csrf = _csrf(page.text)

        not_json = await manager.post(f"/setup/{estate_id}/policy", data={"csrf": csrf, "complaints": "{days: 7"})
        assert not_json.status_code == 422 and "not valid JSON" in _field_error(not_json.text, "complaints")
        refused = await manager.post(f"/setup/{estate_id}/policy",
                                     data={"csrf": csrf, "complaints": '{"repeat_window_days": 0}'})
        assert refused.status_code == 422
        assert "repeat_window_days" in _field_error(refused.text, "complaints")
        policy = (await intake.get(f"/v1/estates/{estate_id}/policy", headers=admin)).json()
        assert policy["version"] == 0  # neither refusal recorded anything

        saved = await manager.post(f"/setup/{estate_id}/policy",
                                   data={"csrf": csrf, "complaints": '{"repeat_window_days": 14}'})
        assert saved.status_code == 303 and saved.headers["location"] == f"/setup/{estate_id}?saved=policy"
    finally:
        await desk.aclose()
        await manager.aclose()
    policy = (await intake.get(f"/v1/estates/{estate_id}/policy", headers=admin)).json()
    assert policy["version"] == 1 and policy["policy"]["complaints"] == {"repeat_window_days": 14}


async def test_an_estate_manager_prices_paid_work_and_sets_the_daily_feedback_from_the_set_up_page(stack, pool, intake):
    estate_id = f"ES{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    set_up = staffed_estate("Fee Court 收费苑", estate_id, 2).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate_id}", json=set_up, headers=admin)).status_code == 200
    manager = await _signed_in(stack, pool, "estate_manager", estate_id)
    try:
        csrf = _csrf((await manager.get(f"/setup/{estate_id}")).text)
        trap = '{"code": "PL-TRAP", "name": "trap", "unit": "piece", "price_fen": 3500}'
        refused = await manager.post(f"/setup/{estate_id}/fees", data={"csrf": csrf, "items": f"[{trap}, {trap}]"})
        assert refused.status_code == 422 and "PL-TRAP" in _field_error(refused.text, "items")
        saved = await manager.post(f"/setup/{estate_id}/fees", data={"csrf": csrf, "items": f"[{trap}]"})
        assert saved.status_code == 303 and saved.headers["location"] == f"/setup/{estate_id}?saved=fees"
        feedback = await manager.post(f"/setup/{estate_id}/policy",
                                      data={"csrf": csrf, "feedback": '{"due_at": "18:00", "working_days_only": true}'})
        assert feedback.status_code == 303, feedback.text[:300]
        page = (await manager.get(f"/setup/{estate_id}")).text
        assert "PL-TRAP" in page and "v1" in page
        assert page.count('id="save-fees"') == 1 and "<title>" in page and "save-fees" not in page.split("</title>")[0]
    finally:
        await manager.aclose()
    fees = (await intake.get(f"/v1/estates/{estate_id}/fee-schedule", headers=admin)).json()
    assert (fees["version"], [i["price_fen"] for i in fees["items"]]) == (1, [3500])
    policy = (await intake.get(f"/v1/estates/{estate_id}/policy", headers=admin)).json()
    assert policy["policy"]["feedback"] == {"due_at": "18:00", "working_days_only": True, "manager_after_minutes": 120}
