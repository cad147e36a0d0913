"""Bodies of the lifecycle commands, with the examples the OpenAPI document shows."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReplyIn(_Body):
    answer: str | None = Field(None, max_length=5000, description="What the desk told the resident")
    handling: str = Field("", max_length=2000)
    result: str = Field("", max_length=2000)
    refer_to_supervisor: bool = Field(False, description="The desk cannot answer: refer it (003 §4.3)")
    reason: str | None = Field(None, max_length=500)


class AcceptIn(_Body):
    department: str | None = None


class EmptyIn(_Body):
    pass


class PauseIn(_Body):
    reason: Literal["waiting_on_resident", "waiting_on_parts", "other"]
    note: str = Field("", max_length=1000)


class TransferIn(_Body):
    to_department: str
    reason: str = Field(min_length=1, max_length=500)
    department: str | None = None


class RejectIn(_Body):
    reason: str = Field(min_length=1, max_length=500)
    department: str | None = Field(None, description="Default: the department the case was routed to")


class ChargeLineIn(_Body):
    item: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0)
    unit_price_fen: int = Field(ge=0, description="Price in fen (1 yuan = 100 fen)")


class CompleteIn(_Body):
    result: str = Field(min_length=1, max_length=2000)
    charge_lines: list[ChargeLineIn] = []
    penalty_fen: int | None = Field(None, gt=0, description="Violations only; estate manager or supervisor")
    penalty_note: str = ""


class InspectIn(_Body):
    """The caller inspects: their user id and role are recorded, with the capacity below."""

    passed: bool
    inspector_role: Literal["owner", "property_assistant"] = Field(
        description="Inspecting as the owner or as a property assistant; a resident inspects as the owner")
    notes: str = Field("", max_length=2000)


class ReviewIn(_Body):
    notes: str = Field("", max_length=2000)


class ReturnVisitIn(_Body):
    method: Literal["phone", "door"]
    satisfaction: Literal["satisfied", "neutral", "dissatisfied"]
    comments: str = Field("", max_length=2000)


class ReasonIn(_Body):
    reason: str = Field(min_length=1, max_length=500)


class MergeIn(_Body):
    into_case_id: str = Field(min_length=1, max_length=64)


class ProgressIn(_Body):
    note: str = Field(min_length=1, max_length=2000)


COMMAND_BODIES: dict[str, tuple[type[BaseModel], str, dict]] = {
    "reply": (ReplyIn, "Answer a consultation, suggestion or simple help at the desk",
              {"answer": "Water will be back at 18:00", "result": "resident informed"}),
    "accept": (AcceptIn, "The department takes the case", {"department": "engineering"}),
    "start": (EmptyIn, "Work begins", {}),
    "pause": (PauseIn, "Work waits (the SLA clock stops while waiting on the resident)",
              {"reason": "waiting_on_resident", "note": "resident away until Monday"}),
    "resume": (EmptyIn, "Work continues", {}),
    "transfer": (TransferIn, "Hand the case to another department",
                 {"to_department": "cleaning", "reason": "blocked drain outside is a cleaning matter"}),
    "reject": (RejectIn, "The department refuses the case; dispatch routes it elsewhere",
               {"reason": "not ours: this is a public-area drain"}),
    "complete": (CompleteIn, "Work is done; paid work records its charge lines",
                 {"result": "replaced the kitchen trap", "charge_lines": [
                     {"item": "P-trap", "quantity": 1, "unit_price_fen": 3500},
                     {"item": "labour (hour)", "quantity": 1, "unit_price_fen": 5000}]}),
    "inspect": (InspectIn, "Acceptance inspection by the owner or a property assistant (002 §4.4.4)",
                {"passed": True, "inspector_role": "owner"}),
    "review": (ReviewIn, "Supervisor review after a passed inspection", {"notes": "photos checked"}),
    "return-visit": (ReturnVisitIn, "Return visit by phone or at the door; dissatisfied reopens the case",
                     {"method": "phone", "satisfaction": "satisfied", "comments": "quick and tidy"}),
    "reopen": (ReasonIn, "Back to work", {"reason": "leak came back"}),
    "cancel": (ReasonIn, "Withdrawn", {"reason": "resident fixed it themselves"}),
    "merge": (MergeIn, "A duplicate of another case", {"into_case_id": "C-0123456789ABCDEF"}),
    "archive": (EmptyIn, "Close the file", {}),
    "progress": (ProgressIn, "A progress note (reported to the group register for group-transferred complaints)",
                 {"note": "parts ordered, fitting on Thursday"}),
}
