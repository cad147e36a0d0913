"""The monthly report as a table: CSV and XLSX, with Chinese and English headers."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterator

from openpyxl import Workbook

HEADERS = ["指标 / Figure", "项目 / Item", "数值 / Value"]
SECTION_NAMES = {
    "total": "案件总数 / Total cases", "by_type": "按类型 / By type", "by_category": "按类别 / By category",
    "by_channel": "按渠道 / By channel", "by_department": "按部门 / By department",
    "response_seconds": "响应时间(秒) / Response time (s)", "resolution_seconds": "处理时间(秒) / Resolution time (s)",
    "sla_compliance": "时限达标 / SLA compliance", "breaches": "超时 / Breaches",
    "escalations_by_level": "升级(按级别) / Escalations by level", "repeat_complaints": "重复投诉 / Repeat complaints",
    "return_visits": "回访 / Return visits", "paid_work": "有偿服务 / Paid work",
    "top_problems": "高发问题 / Top problems", "change": "环比 / Change against last month",
}


def rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    for key, title in SECTION_NAMES.items():
        yield from ([title, item, value] for item, value in _flatten(report[key]))


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}{k}." if isinstance(v, (dict, list)) else f"{prefix}{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{prefix}{i + 1}.")
    else:
        yield prefix.rstrip(".") or "-", value


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows(report))
    return "\ufeff" + out.getvalue()  # a BOM so spreadsheet programs read the Chinese headers right


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
