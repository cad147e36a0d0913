"""What dispatch needs to know about a case, taken from its CaseReceived payload.

Kept in the dispatch state so a rejected case can be re-routed without the original event.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

EMERGENCY_CATEGORIES = frozenset({"medical", "security_incident", "disaster"})


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    estate_id: str
    type: str
    category: str | None = None
    scope: str | None = None
    severity: str | None = None
    serious: bool = False
    building: str | None = None
    area: str | None = None
    title: str = ""
    description: str = ""
    priority: str = "normal"

    @property
    def is_public_area(self) -> bool:
        return self.building is None

    @property
    def is_emergency(self) -> bool:
        return self.type == "help" and self.category in EMERGENCY_CATEGORIES

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.description}"

    @classmethod
    def from_case_received(cls, case_id: str, estate_id: str, payload: dict[str, Any]) -> "CaseFacts":
        location = payload.get("location") or {}
        return cls(
            case_id=case_id,
            estate_id=estate_id,
            type=payload["type"],
            category=payload.get("category"),
            scope=(payload.get("repair") or {}).get("scope"),
            severity=(payload.get("violation") or {}).get("severity"),
            serious=bool((payload.get("help") or {}).get("serious")),
            building=_text_or_none(location.get("building")),
            area=_text_or_none(location.get("area")),
            title=payload.get("title") or "",
            description=payload.get("description") or "",
            priority=payload.get("priority") or "normal",
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseFacts":
        return cls(**data)


def _text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
