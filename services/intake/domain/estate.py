"""What the command side needs to know about an estate to validate a case."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Estate:
    estate_id: str
    name: str
    timezone: str = "Asia/Shanghai"
    buildings: dict[str, dict] = field(default_factory=dict)  # building id -> {"units": {...}}

    def has_building(self, building: str) -> bool:
        return building in self.buildings

    @classmethod
    def from_configured(cls, estate_id: str, payload: dict) -> "Estate":
        return cls(
            estate_id=estate_id,
            name=payload["name"],
            timezone=payload.get("timezone", "Asia/Shanghai"),
            buildings={str(b["id"]): b for b in payload.get("buildings", [])},
        )
