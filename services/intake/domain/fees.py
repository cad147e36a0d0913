"""Pricing paid work by the estate's fee schedule (003 §4.9).

A line that names an item code is priced by the schedule in force: its name, unit and price
come from there and nobody types them. A free line — an item and a price typed by hand — is
for what the schedule lacks, and only a supervisor or the estate manager may charge one."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from estatedesk.contracts.case_events import ChargeLine

from .errors import InvalidCommand, NotPermitted

FREE_LINE_ROLES = frozenset({"supervisor", "estate_manager"})


@dataclass(frozen=True)
class FeeSchedule:
    version: int = 0  # 0: the estate has none yet
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> {code, name, unit, price_fen}

    @classmethod
    def from_set(cls, payload: dict[str, Any]) -> "FeeSchedule":
        return cls(payload["version"], {item["code"]: item for item in payload["items"]})


def price_lines(raw: list[dict[str, Any]], schedule: FeeSchedule, role: str) -> list[ChargeLine]:
    """The bill's lines, priced; InvalidCommand names each line that cannot be, NotPermitted
    refuses a free line from anyone but a supervisor or the estate manager."""
    errors: list[tuple[str, str]] = []
    lines: list[ChargeLine] = []
    for i, line in enumerate(raw):
        code, quantity = line.get("item_code"), line.get("quantity")
        if code is not None:
            item = schedule.items.get(code)
            if item is None:
                errors.append((f"charge_lines.{i}.item_code", f"is not in the estate's fee schedule"
                                                              f" (version {schedule.version})"))
            elif line.get("item") is not None or line.get("unit_price_fen") is not None:
                errors.append((f"charge_lines.{i}.unit_price_fen", "a scheduled item is priced by the fee schedule"))
            else:
                lines.append(ChargeLine(item=item["name"], item_code=code, unit=item["unit"], quantity=quantity,
                                        unit_price_fen=item["price_fen"], total_fen=quantity * item["price_fen"]))
            continue
        if line.get("item") is None or line.get("unit_price_fen") is None:
            errors.append((f"charge_lines.{i}.item_code", "name an item of the fee schedule, or an item and a price"))
            continue
        if role not in FREE_LINE_ROLES:
            raise NotPermitted("only a supervisor or the estate manager may charge a line not in the fee schedule")
        lines.append(ChargeLine(item=line["item"], unit=line.get("unit"), quantity=quantity,
                                unit_price_fen=line["unit_price_fen"], total_fen=quantity * line["unit_price_fen"]))
    if errors:
        raise InvalidCommand(errors)
    return lines
