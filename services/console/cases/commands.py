"""One form per lifecycle command: its fields, the typed model of what it posts, and the body
intake's `POST /v1/cases/{id}/{command}` takes. Nothing about which command is allowed
when lives here: the case view's `allowed_commands` says that."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

DEPARTMENTS = ("customer_service", "engineering", "security", "cleaning", "greening")
STEPS = ("advice", "written_notice", "compensation", "public_notice", "referral",  # a conduct violation's ladder
         "persuasion", "reminder_letter", "late_fee", "lawyer_letter", "public_posting", "service_suspended",
         "arbitration")  # a refused fee's
CHARGE_LINES = 3


@dataclass(frozen=True)
class Input:
    name: str
    kind: str = "text"  # text, textarea, select, checkbox, number, fee_item (the estate's fee schedule)
    options: tuple[str, ...] = ()
    required: bool = False


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    csrf: str = ""
    idempotency_key: str = Field("", max_length=100)


class ReplyForm(_Form):
    answer: str = Field("", max_length=5000)
    handling: str = Field("", max_length=2000)
    result: str = Field("", max_length=2000)
    refer_to_supervisor: Literal["", "on"] = ""
    reason: str = Field("", max_length=500)


class NoFields(_Form):
    pass


class PauseForm(_Form):
    reason: Literal["waiting_on_resident", "waiting_on_parts", "other"]
    note: str = Field("", max_length=1000)


class TransferForm(_Form):
    to_department: Literal[DEPARTMENTS]  # type: ignore[valid-type]
    reason: str = Field(min_length=1, max_length=500)


class ReasonForm(_Form):
    reason: str = Field(min_length=1, max_length=500)


_LINE_PARTS = ("code", "quantity", "item", "price")  # a fee schedule item, or a free line: item and price


class CompleteForm(_Form):
    result: str = Field(min_length=1, max_length=2000)
    charge_code_0: str = Field("", max_length=64)
    charge_quantity_0: str = ""
    charge_item_0: str = ""
    charge_price_0: str = ""
    charge_code_1: str = Field("", max_length=64)
    charge_quantity_1: str = ""
    charge_item_1: str = ""
    charge_price_1: str = ""
    charge_code_2: str = Field("", max_length=64)
    charge_quantity_2: str = ""
    charge_item_2: str = ""
    charge_price_2: str = ""


class InspectForm(_Form):
    passed: Literal["yes", "no"]
    inspector_role: Literal["owner", "property_assistant"]
    notes: str = Field("", max_length=2000)


class NotesForm(_Form):
    notes: str = Field("", max_length=2000)


class ReturnVisitForm(_Form):
    method: Literal["phone", "door"]
    outcome: Literal["reached", "unreachable"] = "reached"
    satisfaction: Literal["satisfied", "neutral", "dissatisfied"]
    duration_minutes: str = Field("", max_length=10)
    comments: str = Field("", max_length=2000)


class RemarkForm(_Form):
    remark: str = Field(min_length=1, max_length=1000)


class SignOffForm(_Form):
    remark: str = Field("", max_length=1000)


class ViolationStepForm(_Form):
    step: Literal[STEPS]  # type: ignore[valid-type]
    note: str = Field("", max_length=2000)
    rectify_within_days: str = Field("", max_length=3)


def _violation_step(f: ViolationStepForm) -> dict:
    body = {"step": f.step, "note": f.note}
    if f.rectify_within_days:
        if not f.rectify_within_days.isdigit():
            raise ChargeLineError("rectify_within_days", "must be a whole number of days")
        body["rectify_within_days"] = int(f.rectify_within_days)
    return body


class MergeForm(_Form):
    into_case_id: str = Field(min_length=1, max_length=64)


class ProgressForm(_Form):
    note: str = Field(min_length=1, max_length=2000)


class ChargeLineError(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def _charge_lines(form: CompleteForm) -> list[dict]:
    """Each filled line: an item picked from the estate's fee schedule (priced by it), or a
    free line with its own item and price, which intake takes from a supervisor only."""
    lines = []
    for i in range(CHARGE_LINES):
        code, quantity, item, price = (getattr(form, f"charge_{part}_{i}") for part in _LINE_PARTS)
        if not (code or quantity or item or price):
            continue
        try:
            qty = int(quantity or "1")
        except ValueError:
            raise ChargeLineError(f"charge_quantity_{i}", "must be a whole number")
        if code:
            lines.append({"item_code": code, "quantity": qty})
            continue
        if not item:
            raise ChargeLineError(f"charge_code_{i}", "pick an item of the fee schedule, or type an item and a price")
        try:
            fen = round(float(price) * 100)
        except ValueError:
            raise ChargeLineError(f"charge_price_{i}", "must be an amount in yuan, e.g. 35.00")
        lines.append({"item": item, "quantity": qty, "unit_price_fen": fen})
    return lines


def _return_visit(f: ReturnVisitForm) -> dict:
    """An unreachable resident gave no satisfaction, and only a door visit has a duration."""
    if f.outcome == "unreachable":
        return {"method": f.method, "outcome": f.outcome, "comments": f.comments}
    body = {"method": f.method, "outcome": f.outcome, "satisfaction": f.satisfaction, "comments": f.comments}
    if f.duration_minutes:
        if not f.duration_minutes.isdigit():
            raise ChargeLineError("duration_minutes", "must be a whole number of minutes")
        body["duration_minutes"] = int(f.duration_minutes)
    return body


def _reply(f: ReplyForm) -> dict:
    body = {"answer": f.answer or None, "handling": f.handling, "result": f.result,
            "refer_to_supervisor": f.refer_to_supervisor == "on"}
    if f.reason:
        body["reason"] = f.reason
    return body


@dataclass(frozen=True)
class CommandForm:
    model: type[_Form]
    inputs: tuple[Input, ...]
    body: Callable[[_Form], dict]
    fields_of: dict[str, str] = field(default_factory=dict)  # intake's field path -> form field


def _same(*names: str) -> Callable[[_Form], dict]:
    return lambda f: {n: getattr(f, n) for n in names}


_LINE_KINDS = {"code": "fee_item", "quantity": "number", "item": "text", "price": "number"}
_charges = tuple(Input(f"charge_{part}_{i}", _LINE_KINDS[part]) for i in range(CHARGE_LINES) for part in _LINE_PARTS)
_charge_paths = {f"charge_lines.{i}.{api}": f"charge_{form}_{i}" for i in range(CHARGE_LINES)
                 for api, form in (("item_code", "code"), ("quantity", "quantity"), ("item", "item"),
                                   ("unit_price_fen", "price"))}

COMMAND_FORMS: dict[str, CommandForm] = {
    "reply": CommandForm(ReplyForm, (Input("answer", "textarea"), Input("handling"), Input("result"),
                                     Input("refer_to_supervisor", "checkbox"), Input("reason")), _reply),
    "accept": CommandForm(NoFields, (), lambda f: {}),
    "start": CommandForm(NoFields, (), lambda f: {}),
    "pause": CommandForm(PauseForm, (Input("reason", "select", ("waiting_on_resident", "waiting_on_parts", "other"),
                                           True), Input("note")), _same("reason", "note")),
    "resume": CommandForm(NoFields, (), lambda f: {}),
    "transfer": CommandForm(TransferForm, (Input("to_department", "select", DEPARTMENTS, True),
                                           Input("reason", required=True)), _same("to_department", "reason")),
    "reject": CommandForm(ReasonForm, (Input("reason", required=True),), _same("reason")),
    "complete": CommandForm(CompleteForm, (Input("result", "textarea", required=True), *_charges),
                            lambda f: {"result": f.result, "charge_lines": _charge_lines(f)}, _charge_paths),
    "inspect": CommandForm(InspectForm, (Input("passed", "select", ("yes", "no"), True),
                                         Input("inspector_role", "select", ("owner", "property_assistant"), True),
                                         Input("notes")),
                           lambda f: {"passed": f.passed == "yes", "inspector_role": f.inspector_role,
                                      "notes": f.notes}),
    "review": CommandForm(NotesForm, (Input("notes", "textarea"),), _same("notes")),
    "return-visit": CommandForm(ReturnVisitForm, (Input("method", "select", ("phone", "door"), True),
                                                  Input("outcome", "select", ("reached", "unreachable"), True),
                                                  Input("satisfaction", "select",
                                                        ("satisfied", "neutral", "dissatisfied"), True),
                                                  Input("duration_minutes", "number"),
                                                  Input("comments", "textarea")),
                                _return_visit),
    "reopen": CommandForm(ReasonForm, (Input("reason", required=True),), _same("reason")),
    "cancel": CommandForm(ReasonForm, (Input("reason", required=True),), _same("reason")),
    "merge": CommandForm(MergeForm, (Input("into_case_id", required=True),), _same("into_case_id")),
    "archive": CommandForm(NoFields, (), lambda f: {}),
    "progress": CommandForm(ProgressForm, (Input("note", "textarea", required=True),), _same("note")),
    "close-visit": CommandForm(RemarkForm, (Input("remark", "textarea", required=True),), _same("remark")),
    "acknowledge-mailbox": CommandForm(RemarkForm, (Input("remark", "textarea", required=True),), _same("remark")),
    "violation-step": CommandForm(ViolationStepForm, (Input("step", "select", STEPS, True), Input("note", "textarea"),
                                                      Input("rectify_within_days", "number")), _violation_step),
    "sign-off-penalty": CommandForm(SignOffForm, (Input("remark", "textarea"),), _same("remark")),
}


def form_field(command: str, api_field: str) -> str | None:
    """The form field that shows intake's message about `api_field`, or None (shown on the form)."""
    spec = COMMAND_FORMS[command]
    if api_field in spec.fields_of:
        return spec.fields_of[api_field]
    names = {i.name for i in spec.inputs}
    return api_field if api_field in names else None
