"""Queue filters: what the read API is asked, and the same filters applied to what it answered
(so a queue stays right while the API ignores a parameter it does not know yet)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..deadlines import next_deadline

DUE_SOON = timedelta(minutes=30)
FULL_CLOSURE = ("complaint", "repair")


class QueueFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: str = Field("", max_length=32)
    type: Literal["", "consultation", "suggestion", "help", "complaint", "repair", "violation"] = ""
    breached: Literal["", "true"] = ""
    due_soon: Literal["", "true"] = ""
    q: str = Field("", max_length=100)
    department: str = Field("", max_length=50)


def api_params(filters: QueueFilters, now: datetime) -> dict:
    return {"status": filters.status or None, "type": filters.type or None,
            "breached": "true" if filters.breached else None, "q": filters.q or None,
            "due_before": (now + DUE_SOON).isoformat() if filters.due_soon else None}


def keep(view: dict, filters: QueueFilters, now: datetime) -> bool:
    if filters.status and view.get("status") != filters.status:
        return False
    if filters.type and view.get("type") != filters.type:
        return False
    deadline = next_deadline(view, now)
    if filters.breached and not (deadline and deadline["state"] == "breached"):
        return False
    if filters.due_soon and not (deadline and deadline["state"] != "breached"
                                 and deadline["seconds_left"] <= DUE_SOON.total_seconds()):
        return False
    if filters.q:
        text = " ".join(str(view.get(k) or "") for k in ("case_id", "title", "description", "category")).lower()
        if filters.q.lower() not in text:
            return False
    return True


def mine(view: dict, user: str) -> bool:
    return user in (view.get("assignee"), view.get("coordinator")) or user in (view.get("assignees") or [])


def waiting_review(view: dict) -> bool:
    return view.get("status") in ("completed", "inspected") and view.get("type") in FULL_CLOSURE


def visit_due(view: dict) -> bool:
    if view.get("type") in FULL_CLOSURE:
        return view.get("status") == "reviewed"
    return view.get("status") in ("completed", "replied")


def group_transferred(view: dict) -> bool:
    return view.get("type") == "complaint" and bool(view.get("group_ref") or view.get("channel") == "group_transfer")
