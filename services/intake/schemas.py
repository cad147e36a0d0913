"""HTTP bodies of the command API (SPEC §5); field names are fixed by the contract."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    area: str | None = None


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=30)
    household_id: str | None = Field(None, max_length=64)


class CaseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "estate_id": "E001", "type": "repair", "category": "plumbing", "channel": "phone",
            "title": "Kitchen pipe leaking", "description": "Water under the sink",
            "location": {"building": "3", "unit": "2", "room": "1502"},
            "reporter": {"name": "王女士", "phone": "13812345678", "household_id": "H-3-2-1502"},
            "repair": {"scope": "in_home", "in_warranty": None},
        }]},
    )
    estate_id: str = Field(min_length=1, max_length=32)
    type: Literal["consultation", "suggestion", "help", "complaint", "repair", "violation"]
    category: str | None = Field(None, max_length=64)
    channel: Literal["phone", "walk_in", "app", "patrol", "group_transfer"]
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    location: LocationIn
    reporter: ReporterIn = ReporterIn()
    received_at: datetime | None = None
    repair: dict[str, Any] | None = None
    complaint: dict[str, Any] | None = None
    help: dict[str, Any] | None = None
    violation: dict[str, Any] | None = None


class CaseAccepted(BaseModel):
    model_config = ConfigDict(extra="allow")
    case_id: str
    status: str
    estate_id: str
    type: str
    priority: str
    received_at: str
    position: int = Field(description="Store position of the case's first event; pass it as `min_position` "
                                      "to the analytics API to read your own write.")


class BuildingIn(BaseModel):
    id: str
    name: str | None = None
    units: list[dict[str, Any]] = []


class EstateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    timezone: str = "Asia/Shanghai"
    buildings: list[BuildingIn] = []
    grids: list[dict[str, Any]] = []
    staff: dict[str, list[str]] = {}


class PolicyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "dispatch": {"max_bounces": 3, "rules": [{
                "id": "night-leaks", "when": {"type": "repair", "keywords": ["漏水", "leak"],
                                              "hours": {"from": "22:00", "to": "06:00"}},
                "route": [{"department": "engineering"}, {"department": "security", "staff": 1}],
                "priority": "urgent"}]},
        }]},
    )
    dispatch: dict[str, Any] | None = Field(None, description="Routing rules tried before the defaults")
    sla: dict[str, Any] | None = Field(None, description="Service targets, clocks and escalation chains")
    warranty: dict[str, Any] | None = Field(None, description="Liability years per component")
    complaints: dict[str, Any] | None = Field(None, description="e.g. repeat window in days")
