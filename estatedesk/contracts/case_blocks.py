"""The type blocks of a case (SPEC §5 "POST /v1/cases"): what a repair, complaint, help
request or violation adds. One model per block serves the request body and CaseReceived, so
nothing a client types into an unknown field reaches an event."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool

from estatedesk.inputs import Id, Input, Line

COMPLAINT_ORIGINS = ("resident", "group_center", "quality_office")


class RepairBlock(Input):
    scope: Literal["public_area", "in_home"]
    in_warranty: StrictBool | None = Field(None, description="Set only to override the derived warranty")
    override_reason: Annotated[Line, Field(max_length=500)] | None = None


class ComplaintBlock(Input):
    origin: Literal["resident", "group_center", "quality_office"] = "resident"
    related_case_id: Id | None = Field(None, description="The earlier case this complaint repeats")
    group_ref: Annotated[Line, Field(max_length=64)] | None = Field(
        None, description="Reference in the group's complaint register")


class HelpBlock(Input):
    serious: StrictBool = Field(False, description="A serious emergency: the estate manager is told at once")
    paid: StrictBool = Field(False, description="Paid help: completion bills its charge lines")


class ViolationBlock(Input):
    severity: Literal["general", "major"]


class ConsultationBlock(Input):
    form: Literal["oral", "written"] = Field(description="Asked in person or by phone, or in writing (003 §4.3)")
    confidential: StrictBool = Field(False, description="Touches confidential matters: only the desk, the supervisor"
                                                        " and the estate manager read its content (003 §4.3 4)")


BLOCKS = {"repair": RepairBlock, "complaint": ComplaintBlock, "help": HelpBlock, "violation": ViolationBlock,
          "consultation": ConsultationBlock}
