"""The front-desk form for a new case: its typed model and the body of intake's POST /v1/cases."""
from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

CATEGORIES: dict[str, tuple[str, ...]] = {
    "repair": ("plumbing", "drainage", "leak", "electrical", "lighting", "door", "window", "wall", "heating",
               "structure", "equipment"),
    "complaint": ("service", "environment", "greenery", "noise", "fee", "security", "other"),
    "help": ("medical", "security_incident", "disaster", "other"),
    "violation": ("decoration", "fire_safety", "environment", "public_security", "fee_refusal", "harming_others"),
    "consultation": ("fee", "service", "confidential", "other"),
    "suggestion": ("service", "environment", "facilities", "other"),
}
TYPES = tuple(CATEGORIES)
CHANNELS = ("phone", "walk_in", "app", "patrol", "group_transfer")


class NewCaseForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    csrf: str = ""
    idempotency_key: str = Field("", max_length=100)
    estate_id: str = Field(min_length=1, max_length=32)
    type: Literal[TYPES]  # type: ignore[valid-type]
    category: str = Field("", max_length=64)
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    building: str = Field("", max_length=32)
    unit: str = Field("", max_length=32)
    room: str = Field("", max_length=32)
    area: str = Field("", max_length=100)
    reporter_name: str = Field("", max_length=100)
    reporter_phone: str = Field("", max_length=30)
    household_id: str = Field("", max_length=64)
    received_at: str = Field("", max_length=40, description="datetime-local in the estate's timezone")
    repair_scope: Literal["", "in_home", "public_area"] = ""
    repair_in_warranty: Literal["", "true", "false"] = ""
    repair_override_reason: str = Field("", max_length=500)
    complaint_origin: Literal["", "resident", "group_center", "quality_office"] = ""
    complaint_related_case_id: str = Field("", max_length=64)
    complaint_group_ref: str = Field("", max_length=64)
    help_serious: Literal["", "on"] = ""
    violation_severity: Literal["", "general", "major"] = ""
    consultation_form: Literal["", "oral", "written"] = ""
    consultation_confidential: Literal["", "on"] = ""


class FormProblem(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def _none(value: str) -> str | None:
    return value or None


def received_at(value: str, tz: str) -> str | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise FormProblem("received_at", "is not a date and time")
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(tz))
    return at.isoformat()


def case_body(form: NewCaseForm, tz: str) -> dict:
    """The body of intake's POST /v1/cases; only the block of the case's own type is sent."""
    location = ({"area": form.area} if form.area and not form.building else
                {"building": _none(form.building), "unit": _none(form.unit), "room": _none(form.room)})
    body = {
        "estate_id": form.estate_id, "type": form.type, "category": _none(form.category), "channel": form.channel,
        "title": form.title, "description": form.description, "location": location,
        "reporter": {"name": _none(form.reporter_name), "phone": _none(form.reporter_phone),
                     "household_id": _none(form.household_id)},
    }
    at = received_at(form.received_at, tz)
    if at:
        body["received_at"] = at
    if form.type == "repair":
        warranty = {"": None, "true": True, "false": False}[form.repair_in_warranty]
        body["repair"] = {"scope": form.repair_scope or None, "in_warranty": warranty}
        if form.repair_override_reason:
            body["repair"]["override_reason"] = form.repair_override_reason
    elif form.type == "complaint":
        body["complaint"] = {"origin": form.complaint_origin or "resident",
                             "related_case_id": _none(form.complaint_related_case_id),
                             "group_ref": _none(form.complaint_group_ref)}
    elif form.type == "help":
        body["help"] = {"serious": form.help_serious == "on"}
    elif form.type == "violation":
        body["violation"] = {"severity": form.violation_severity or None}
    elif form.type == "consultation" and (form.consultation_form or form.consultation_confidential):
        body["consultation"] = {"form": form.consultation_form or None,
                                "confidential": form.consultation_confidential == "on"}
    return body


# intake's field paths -> the form field that shows the message
API_FIELDS = {
    "location.building": "building", "location.unit": "unit", "location.room": "room", "location.area": "area",
    "reporter.name": "reporter_name", "reporter.phone": "reporter_phone", "reporter.household_id": "household_id",
    "repair.scope": "repair_scope", "repair.in_warranty": "repair_in_warranty",
    "repair.override_reason": "repair_override_reason",
    "complaint.origin": "complaint_origin", "complaint.related_case_id": "complaint_related_case_id",
    "complaint.group_ref": "complaint_group_ref", "help.serious": "help_serious",
    "violation.severity": "violation_severity",
    "consultation.form": "consultation_form", "consultation.confidential": "consultation_confidential",
}
