"""What the command side needs to know about an estate to validate a case."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

NOT_A_DEPARTMENT = frozenset({"estate_manager"})


@dataclass(frozen=True)
class Estate:
    estate_id: str
    name: str
    timezone: str = "Asia/Shanghai"
    buildings: dict[str, dict] = field(default_factory=dict)  # building id -> {"units": {...}}
    staff: dict[str, tuple[str, ...]] = field(default_factory=dict)  # department -> user ids

    def has_building(self, building: str) -> bool:
        return building in self.buildings

    @property
    def departments(self) -> list[str]:
        """The departments that owe daily feedback: every staff list but the estate manager's."""
        return sorted(set(self.staff) - NOT_A_DEPARTMENT)

    def departments_of(self, user: str) -> frozenset[str]:
        """The departments whose staff list names `user` (the estate manager's list is not a
        department's)."""
        return frozenset(d for d, users in self.staff.items() if user in users and d not in NOT_A_DEPARTMENT)

    def handover_date(self, building: str | None, unit: str | None) -> date | None:
        """The unit's handover date, else its building's; None when not on record."""
        record = self.buildings.get(str(building)) if building else None
        if not record:
            return None
        for candidate in record.get("units", []):
            if str(candidate.get("id")) == str(unit) and candidate.get("handover_date"):
                return date.fromisoformat(candidate["handover_date"])
        return date.fromisoformat(record["handover_date"]) if record.get("handover_date") else None

    @classmethod
    def from_configured(cls, estate_id: str, payload: dict) -> "Estate":
        return cls(
            estate_id=estate_id,
            name=payload["name"],
            timezone=payload.get("timezone", "Asia/Shanghai"),
            buildings={str(b["id"]): b for b in payload.get("buildings", [])},
            staff={str(d): tuple(map(str, users)) for d, users in (payload.get("staff") or {}).items()},
        )
