"""HTTP bodies of the command API (SPEC §5); field names are fixed by the contract."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from estatedesk.contracts.case_blocks import ComplaintBlock, ConsultationBlock, HelpBlock, RepairBlock, ViolationBlock
from estatedesk.contracts.events import Location
from estatedesk.inputs import Id, Input, IsoDatetime, Line, Text


class ReporterIn(Input):
    """Who called. Name and phone stay in intake's contact table; only the household and a
    masked phone travel on the events."""

    name: Annotated[Line, Field(max_length=100)] | None = None
    phone: Annotated[Line, Field(max_length=30)] | None = None
    household_id: Id | None = None


class CaseIn(Input):
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
    estate_id: Id
    type: Literal["consultation", "suggestion", "help", "complaint", "repair", "violation"]
    category: Annotated[Line, Field(max_length=64)] | None = None
    channel: Literal["phone", "walk_in", "app", "patrol", "group_transfer"]
    title: Annotated[Line, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(max_length=5000)] = ""
    location: Location
    reporter: ReporterIn = ReporterIn()
    received_at: IsoDatetime | None = Field(None, description="Back-dating, at most 7 days; with a UTC offset")
    repair: RepairBlock | None = None
    complaint: ComplaintBlock | None = None
    help: HelpBlock | None = None
    violation: ViolationBlock | None = None
    consultation: ConsultationBlock | None = None


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
