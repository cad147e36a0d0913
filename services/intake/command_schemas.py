"""Bodies of the lifecycle commands, with the examples the OpenAPI document shows."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from estatedesk.inputs import Id, Input, Line, Text

from .domain.violations import MAX_DAYS_TO_RECTIFY, STEPS

MAX_AMOUNT_FEN = 100_000_000  # a million yuan: anything larger is a typing slip


def _text(limit: int, required: bool = False):
    return Annotated[Text, Field(min_length=1 if required else 0, max_length=limit)]


def _line(limit: int, required: bool = False):
    return Annotated[Line, Field(min_length=1 if required else 0, max_length=limit)]


class _Body(Input):
    pass


class ReplyIn(_Body):
    answer: _text(5000) | None = Field(None, description="What the desk told the resident")
    handling: _text(2000) = ""
    result: _text(2000) = ""
    refer_to_supervisor: StrictBool = Field(False, description="The desk cannot answer: refer it (003 §4.3)")
    reason: _text(500) | None = None


class AcceptIn(_Body):
    department: Id | None = None


class EmptyIn(_Body):
    pass


class PauseIn(_Body):
    reason: Literal["waiting_on_resident", "waiting_on_parts", "other"]
    note: _text(1000) = ""


class TransferIn(_Body):
    to_department: Id
    reason: _text(500, required=True)
    department: Id | None = None


class RejectIn(_Body):
    reason: _text(500, required=True)
    department: Id | None = Field(None, description="Default: the department the case was routed to")


class ChargeLineIn(_Body):
    item_code: Id | None = Field(None, description="An item of the estate's fee schedule, priced by it")
    quantity: StrictInt = Field(gt=0, le=10_000)
    item: _line(200, required=True) | None = Field(
        None, description="A free line (supervisor or estate manager only): what was charged")
    unit: _line(20, required=True) | None = Field(None, description="A free line's unit, e.g. piece or hour")
    unit_price_fen: StrictInt | None = Field(None, ge=0, le=MAX_AMOUNT_FEN,
                                             description="A free line's price in fen (1 yuan = 100 fen)")


class CompleteIn(_Body):
    result: _text(2000, required=True)
    charge_lines: list[ChargeLineIn] = Field([], max_length=100)
    penalty_fen: StrictInt | None = Field(None, gt=0, le=MAX_AMOUNT_FEN, description="Violations only; estate manager or supervisor")
    penalty_note: _text(500) = ""


class InspectIn(_Body):
    """The caller inspects: their user id and role are recorded, with the capacity below."""

    passed: StrictBool
    inspector_role: Literal["owner", "property_assistant"] = Field(
        description="Inspecting as the owner or as a property assistant; a resident inspects as the owner")
    notes: _text(2000) = ""


class ReviewIn(_Body):
    notes: _text(2000) = ""


class ReturnVisitIn(_Body):
    method: Literal["phone", "door"]
    outcome: Literal["reached", "unreachable"] = Field("reached", description="unreachable: no answer, nobody home")
    satisfaction: Literal["satisfied", "neutral", "dissatisfied"] | None = Field(
        None, description="Required when the resident was reached")
    duration_minutes: StrictInt | None = Field(None, gt=0, le=600, description="A door visit's length")
    comments: _text(2000) = ""


class CloseVisitIn(_Body):
    remark: _text(1000, required=True)


class AcknowledgeMailboxIn(_Body):
    remark: _text(1000, required=True) = Field(description="What the general manager makes of it, or has ordered")


class ViolationStepIn(_Body):
    step: Literal[STEPS] = Field(description="conduct: advice, written_notice, compensation, public_notice, "  # type: ignore[valid-type]
                                             "referral; a refused fee: persuasion, reminder_letter, late_fee, "
                                             "lawyer_letter, public_posting, service_suspended, arbitration")
    note: _text(2000) = ""
    rectify_within_days: StrictInt | None = Field(None, ge=1, le=MAX_DAYS_TO_RECTIFY,
                                                  description="A written notice or reminder letter: days to comply")


class SignOffIn(_Body):
    remark: _text(1000) = ""


class ReasonIn(_Body):
    reason: _text(500, required=True)


class MergeIn(_Body):
    into_case_id: Id


class ProgressIn(_Body):
    note: _text(2000, required=True)


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
    "complete": (CompleteIn, "Work is done; paid work is billed from the estate's fee schedule",
                 {"result": "replaced the kitchen trap", "charge_lines": [
                     {"item_code": "PL-TRAP", "quantity": 1}, {"item_code": "LABOUR-H", "quantity": 1}]}),
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
    "close-visit": (CloseVisitIn, "After three unreachable attempts a supervisor closes the visit owed, with a remark",
                    {"remark": "three calls and a door visit, nobody home; resident moved out"}),
    "acknowledge-mailbox": (AcknowledgeMailboxIn,
                            "The general manager acknowledges the case's items in the general manager's mailbox"
                            " (总经理信箱), with a remark",
                            {"remark": "read; the estate manager calls the resident today"}),
    "violation-step": (ViolationStepIn, "A step of the violation handling ladder (000 §1); beyond advice only a"
                                        " supervisor or the estate manager",
                       {"step": "written_notice", "note": "balcony enclosure to be removed", "rectify_within_days": 7}),
    "sign-off-penalty": (SignOffIn, "The general manager signs off a major violation's penalty, which only then"
                                    " is in force", {"remark": "agreed: 5,000 yuan for the damaged fire door"}),
}
