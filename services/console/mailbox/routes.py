"""The general manager's mailbox (总经理信箱): what analytics lists, one row per case with its
items, and the acknowledge form, which posts the case command like the case page does."""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request

from ..api_client import explain
from ..web import UserDep, render

router = APIRouter()


def by_case(items: list[dict]) -> list[dict]:
    """The API's items grouped by case, in the order it answered them."""
    rows: dict[str, dict] = {}
    for item in items:
        row = rows.setdefault(item["case_id"], {**item, "items": []})
        row["items"].append(item)
    for row in rows.values():
        row["open"] = any(not i.get("acknowledged_at") for i in row["items"])
    return list(rows.values())


@router.get("/mailbox")
async def mailbox(request: Request, user: UserDep, estate_id: str = "", state: Literal["open", "all"] = "open"):
    answer = await request.app.state.api.mailbox(user.token, estate_id or None, state)
    return render(request, "mailbox/mailbox.html", rows=by_case(answer.get("items", []) if answer.ok else []),
                  problem="" if answer.ok else explain(answer).general, estate_id=estate_id, state=state,
                  key=str(uuid.uuid4()))
