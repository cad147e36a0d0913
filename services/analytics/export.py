"""The monthly report as a table (CSV and XLSX) and the month's complaint file cards (CSV), with
Chinese and English headers. Every cell passes `cells.safe_cell`: labels and texts come from
what cases stored."""
from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterator

from openpyxl import Workbook

from .cells import safe_cell

HEADERS = ["指标 / Figure", "项目 / Item", "数值 / Value"]
SECTION_NAMES = {
    "total": "案件总数 / Total cases", "by_type": "按类型 / By type", "by_category": "按类别 / By category",
    "by_channel": "按渠道 / By channel", "by_department": "按部门 / By department",
    "response_seconds": "响应时间(秒) / Response time (s)", "resolution_seconds": "处理时间(秒) / Resolution time (s)",
    "sla_compliance": "时限达标 / SLA compliance", "breaches": "超时 / Breaches",
    "escalations_by_level": "升级(按级别) / Escalations by level", "repeat_complaints": "重复投诉 / Repeat complaints",
    "file_cards_opened": "投诉处理档案卡 / Complaint file cards opened",
    "return_visits": "回访 / Return visits", "visit_reachability": "回访联系情况 / Visit reachability",
    "mailbox_items": "总经理信箱 / General manager's mailbox", "paid_work": "有偿服务 / Paid work",
    "group_register": "集团投诉登记 / Group register",
    "top_problems": "高发问题 / Top problems", "change": "环比 / Change against last month",
}


_NOT_IN_FILENAME = re.compile(r"[^A-Za-z0-9_.-]")


def filename(estate_id: str | None, month: str, extension: str, what: str = "") -> str:
    """The download's name; only characters every header and file system take, since the
    estate comes from the query string as the client typed it."""
    estate = _NOT_IN_FILENAME.sub("_", estate_id or "group")[:64]
    return f"estatedesk-{what}{'-' * bool(what)}{estate}-{_NOT_IN_FILENAME.sub('_', month)}.{extension}"


NO_ITEM = "-"  # the item of a figure that is one number; a lone minus is no formula


def rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    for key, title in SECTION_NAMES.items():
        for item, value in _flatten(report[key]):
            yield [title, safe_cell(item) if item else NO_ITEM, safe_cell(value)]


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}{k}." if isinstance(v, (dict, list)) else f"{prefix}{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{prefix}{i + 1}.")
    else:
        yield prefix.rstrip("."), value


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows(report))
    return "\ufeff" + out.getvalue()  # a BOM so spreadsheet programs read the Chinese headers right


def _texts(entries: list[dict[str, Any]]) -> str:
    return "\n".join(e["text"] for e in entries if e.get("text"))


def _opinion(card: dict[str, Any]) -> str:
    visit = card.get("resident_opinion") or {}
    return " ".join(filter(None, (visit.get("satisfaction"), visit.get("comments"))))


CARD_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("案件编号 / Case", lambda c: c["case_id"]), ("状态 / Status", lambda c: c["status"]),
    ("住户 / Household", lambda c: c["complainant"].get("household_id")),
    ("电话 / Phone", lambda c: c["complainant"].get("phone_masked")),
    ("投诉事项 / Matter", lambda c: c["matter"]["title"]), ("内容 / Description", lambda c: c["matter"]["description"]),
    ("受理时间 / Received", lambda c: c["received_at"]), ("派单时间 / Dispatched", lambda c: c["dispatched_at"]),
    ("建卡时间 / Card opened", lambda c: c["opened_at"]), ("完成时间 / Completed", lambda c: c["completed_at"]),
    ("归档时间 / Closed", lambda c: c["closed_at"]), ("处理部门 / Department", lambda c: c["department"]),
    ("处理措施 / Measures", lambda c: _texts(c["measures"])), ("处理结果 / Result", lambda c: c["result"]),
    ("业户意见 / Resident's opinion", _opinion),
    ("主管意见 / Supervisor's remarks", lambda c: _texts(c["supervisor_remarks"])),
)


def cards_to_csv(cards: list[dict[str, Any]]) -> str:
    """The month's complaint file cards, one row each, every cell made safe as the report's are."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in CARD_COLUMNS])
    writer.writerows([safe_cell(value(card)) for _, value in CARD_COLUMNS] for card in cards)
    return "\ufeff" + out.getvalue()


def to_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"{report['month']}"
    sheet.append(HEADERS)
    for row in rows(report):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
