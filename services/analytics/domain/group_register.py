"""The group's complaint register (集团客户服务中心投诉处理记录本, 002 §4.2.2) as the case views hold it.

A complaint is on the register when the group centre or the quality office transferred it, or
when it names a reference in the group's register. Each entry carries that reference, every
progress note in order and the final result as it was reported back to the group.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

ENTRY_FIELDS = ("case_id", "estate_id", "group_ref", "title", "category", "received_at", "status", "closed_at")


def on_group_register(view: dict[str, Any]) -> bool:
    """Views written before the flag was kept know a register complaint by its reference only."""
    return bool(view.get("on_group_register", view.get("group_ref") is not None))


def entry(view: dict[str, Any]) -> dict[str, Any]:
    """One line of the register: no resident's name or phone, only what the group follows."""
    return {**{k: view.get(k) for k in ENTRY_FIELDS}, "origin": view.get("complaint_origin"),
            "progress_notes": view.get("progress_notes", []), "result": view.get("group_result")}


def register(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The register's entries among `views`, oldest received first."""
    return [entry(v) for v in sorted(views, key=_received) if on_group_register(v)]


def _received(view: dict[str, Any]) -> tuple[datetime, str]:
    return datetime.fromisoformat(view["received_at"]), view["case_id"]
