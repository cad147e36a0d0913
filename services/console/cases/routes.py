"""Front desk (new case, household lookup) and the case page with its command forms."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from ..api_client import Problem, explain
from ..deadlines import deadline_state
from ..forms import field_errors, form_dict
from ..web import UserDep, check_csrf, render
from .commands import COMMAND_FORMS, ChargeLineError, form_field
from .new_case import API_FIELDS, CATEGORIES, CHANNELS, FormProblem, NewCaseForm, case_body

router = APIRouter()
CLOSED = ("archived", "cancelled", "merged")


def _api(request: Request):
    return request.app.state.api


async def estate_setup(request: Request, user, estate_id: str | None) -> dict:
    """The estate's set-up from intake, or {} while intake does not serve it."""
    if not estate_id:
        return {}
    answer = await _api(request).estate(user.token, estate_id)
    if answer.ok and isinstance(answer.data, dict):
        request.app.state.timezones[estate_id] = answer.data.get("timezone") or "Asia/Shanghai"
        return answer.data
    return {}


def estate_tz(request: Request, estate_id: str | None) -> str:
    return request.app.state.timezones.get(estate_id or "", "Asia/Shanghai")


async def _new_case_page(request: Request, user, status: int = 200, values: dict | None = None,
                         errors: dict | None = None, message: str = ""):
    values = dict(values or {})
    estate_id = values.get("estate_id") or request.query_params.get("estate_id") or user.home_estate or ""
    values["estate_id"] = estate_id
    estate = await estate_setup(request, user, estate_id)
    return render(request, "cases/new.html", status, values=values, errors=errors or {}, message=message,
                  estate_id=estate_id, estate=estate, categories=CATEGORIES, channels=CHANNELS,
                  idempotency_key=values.get("idempotency_key") or str(uuid.uuid4()),
                  tz=estate_tz(request, estate_id))


@router.get("/cases/new")
async def new_case_page(request: Request, user: UserDep):
    return await _new_case_page(request, user)


@router.post("/cases/new")
async def new_case(request: Request, user: UserDep):
    data = await form_dict(request)
    check_csrf(request, user, data.get("csrf"))
    try:
        form = NewCaseForm.model_validate(data)
        body = case_body(form, estate_tz(request, form.estate_id))
    except ValidationError as exc:
        return await _new_case_page(request, user, 422, data, field_errors(exc))
    except FormProblem as exc:
        return await _new_case_page(request, user, 422, data, {exc.name: str(exc)})
    answer = await _api(request).receive_case(user.token, body, form.idempotency_key or None)
    if not answer.ok:
        problem = explain(answer)
        errors = {API_FIELDS.get(k, k): v for k, v in problem.fields.items()}
        known = set(NewCaseForm.model_fields)
        general = "; ".join([problem.general] * bool(problem.general)
                            + [f"{k}: {v}" for k, v in errors.items() if k not in known])
        return await _new_case_page(request, user, answer.status if answer.status >= 400 else 502, data,
                                    {k: v for k, v in errors.items() if k in known}, general)
    return RedirectResponse(f"/cases/{answer.get('case_id')}?created=1&min_position={answer.get('position', '')}",
                            status_code=303)


@router.get("/cases/household")
async def household(request: Request, user: UserDep, household_id: str = "", estate_id: str = "",
                    type: str = "", category: str = ""):
    """A fragment for the desk form: the household's open and recent cases, and a warning when a
    new complaint looks like a repeat (an earlier complaint of the household on the same matter;
    intake makes the binding decision when the case is saved)."""
    items: list[dict] = []
    if household_id:
        answer = await _api(request).cases(user.token, household_id=household_id, estate_id=estate_id or None,
                                           limit=50)
        if answer.ok:
            items = [c for c in answer.get("items", [])
                     if (c.get("reporter") or {}).get("household_id") == household_id][:10]
    open_cases = [c for c in items if c.get("status") not in CLOSED]
    repeat = type == "complaint" and any(c.get("type") == "complaint" and (not category or c.get("category") == category)
                                         for c in items)
    return render(request, "cases/household.html", household_id=household_id, items=items,
                  open_count=len(open_cases), repeat=repeat, tz=estate_tz(request, estate_id))


def _commands(view: dict) -> tuple[list[str], bool]:
    """The buttons to show, and whether they come from the view (else every command, and intake
    answers the ones not allowed now with a sentence)."""
    allowed = view.get("allowed_commands")
    if isinstance(allowed, list):
        return [c for c in allowed if c in COMMAND_FORMS], True
    return ([] if view.get("status") in CLOSED else list(COMMAND_FORMS)), False


async def _case_page(request: Request, user, case_id: str, *, min_position: int | None = None, status: int = 200,
                     open_command: str | None = None, problem: Problem | None = None, values: dict | None = None):
    answer = await _api(request).case(user.token, case_id, min_position)
    if not answer.ok:
        return render(request, "cases/missing.html", answer.status if answer.status >= 400 else 502,
                      case_id=case_id, problem=explain(answer))
    view = answer.data
    if view.get("estate_id") not in request.app.state.timezones:
        await estate_setup(request, user, view.get("estate_id"))
    now = request.app.state.clock()
    commands, from_view = _commands(view)
    if open_command and open_command not in commands:
        commands.append(open_command)
    fee_items = await _fee_items(request, user, view.get("estate_id")) if "complete" in commands else []
    return render(request, "cases/case.html", status, view=view, case_id=case_id, commands=commands,
                  fee_items=fee_items,
                  commands_from_view=from_view, forms=COMMAND_FORMS, open_command=open_command,
                  problem=problem or Problem(), values=values or {},
                  deadlines=[deadline_state(d, now) for d in view.get("deadlines") or []],
                  created=request.query_params.get("created") == "1", tz=estate_tz(request, view.get("estate_id")),
                  key=str(uuid.uuid4()))


async def _fee_items(request: Request, user, estate_id: str | None) -> list[dict]:
    """The estate's fee schedule items to pick from, or none while intake does not serve them."""
    if not estate_id:
        return []
    answer = await _api(request).fee_schedule(user.token, estate_id)
    return answer.get("items", []) if answer.ok else []


@router.get("/cases/{case_id}")
async def case_page(case_id: str, request: Request, user: UserDep, min_position: str = ""):
    position = int(min_position) if min_position.isdigit() else None
    return await _case_page(request, user, case_id, min_position=position)


@router.post("/cases/{case_id}/{command}")
async def give_command(case_id: str, command: str, request: Request, user: UserDep):
    spec = COMMAND_FORMS.get(command)
    if spec is None:
        raise HTTPException(404, f"no command {command}")
    data = await form_dict(request)
    check_csrf(request, user, data.get("csrf"))
    try:
        form = spec.model.model_validate(data)
        body = spec.body(form)
    except ValidationError as exc:
        return await _case_page(request, user, case_id, status=422, open_command=command, values=data,
                                problem=Problem(fields=field_errors(exc)))
    except ChargeLineError as exc:
        return await _case_page(request, user, case_id, status=422, open_command=command, values=data,
                                problem=Problem(fields={exc.name: str(exc)}))
    answer = await _api(request).command(user.token, case_id, command, body, form.idempotency_key or None)
    if not answer.ok:
        return await _case_page(request, user, case_id, status=answer.status if answer.status >= 400 else 502,
                                open_command=command, values=data, problem=locate(command, explain(answer)))
    return RedirectResponse(f"/cases/{case_id}?min_position={answer.get('position', '')}", status_code=303)


def locate(command: str, problem: Problem) -> Problem:
    """Move each of intake's field messages beside its form field; the rest go to the form."""
    fields, general = {}, [problem.general] if problem.general else []
    for api_field, message in problem.fields.items():
        name = form_field(command, api_field)
        if name:
            fields[name] = message
        else:
            general.append(f"{api_field}: {message}")
    return Problem(general=" ".join(general), fields=fields)
