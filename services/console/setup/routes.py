"""Set-up pages for estate managers and group admins: the estate and its policy, read and edit.
Edits are PUT to intake as they are; intake's 422 messages are shown on the fields."""
from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..api_client import explain
from ..forms import field_errors, form_dict
from ..web import UserDep, check_csrf, render

router = APIRouter()
ADMINS = ("estate_manager", "group_admin")
ESTATE_JSON = ("buildings", "grids", "staff")
POLICY_JSON = ("dispatch", "sla", "warranty", "complaints", "feedback")
FEES_JSON = ("items",)


class EstateForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    csrf: str = ""
    name: str = Field(min_length=1, max_length=100)
    timezone: str = Field("Asia/Shanghai", min_length=1, max_length=64)
    buildings: str = "[]"
    grids: str = "[]"
    staff: str = "{}"


class PolicyForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    csrf: str = ""
    dispatch: str = ""
    sla: str = ""
    warranty: str = ""
    complaints: str = ""
    feedback: str = ""


class FeesForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    csrf: str = ""
    items: str = Field("", max_length=200_000)


def _require(user, estate_id: str | None = None) -> None:
    if user.role not in ADMINS:
        raise HTTPException(403, "set-up is for estate managers and group admins")
    if estate_id and not (user.is_group or estate_id in user.estates):
        raise HTTPException(403, f"your account does not cover estate {estate_id}")


def _parse(form: BaseModel, names: tuple[str, ...]) -> tuple[dict, dict]:
    body, errors = {}, {}
    for name in names:
        text = getattr(form, name)
        if not text:
            continue
        try:
            body[name] = json.loads(text)
        except ValueError as exc:
            errors[name] = f"is not valid JSON ({exc.msg}, line {exc.lineno})"
    return body, errors


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) if value not in (None, "") else ""


@router.get("/setup")
async def setup_index(request: Request, user: UserDep, estate_id: str = ""):
    _require(user)
    if estate_id or user.home_estate:
        return RedirectResponse(f"/setup/{estate_id or user.home_estate}", status_code=303)
    return render(request, "setup/index.html")


async def _page(request: Request, user, estate_id: str, status: int = 200, **context):
    api = request.app.state.api
    estate, policy = await api.estate(user.token, estate_id), await api.policy(user.token, estate_id)
    fees = await api.fee_schedule(user.token, estate_id)
    e = estate.data if estate.ok else {}
    p = policy.data if policy.ok else {}
    f = fees.data if fees.ok else {}
    values = {"name": e.get("name", ""), "timezone": e.get("timezone", "Asia/Shanghai"),
              **{k: _pretty(e.get(k)) for k in ESTATE_JSON},
              **{k: _pretty((p.get("policy") or {}).get(k)) for k in POLICY_JSON}, "items": _pretty(f.get("items"))}
    values.update(context.pop("values", {}))
    return render(request, "setup/estate.html", status, estate_id=estate_id, estate=e, policy=p, fees=f,
                  values=values, fees_problem=context.pop("fees_problem", "" if fees.ok else explain(fees).general),
                  estate_problem=context.pop("estate_problem", "" if estate.ok else explain(estate).general),
                  policy_problem=context.pop("policy_problem", "" if policy.ok else explain(policy).general),
                  errors=context.pop("errors", {}), saved=request.query_params.get("saved", ""),
                  tz=e.get("timezone"), **context)


@router.get("/setup/{estate_id}")
async def estate_page(estate_id: str, request: Request, user: UserDep):
    _require(user, estate_id)
    return await _page(request, user, estate_id)


async def _save(request: Request, user, estate_id: str, model: type[BaseModel], names: tuple[str, ...], put,
                which: str):
    data = await form_dict(request)
    check_csrf(request, user, data.get("csrf"))
    try:
        form = model.model_validate(data)
    except ValidationError as exc:
        return await _page(request, user, estate_id, 422, values=data, errors=field_errors(exc))
    body, errors = _parse(form, names)
    if which == "estate":
        body.update(name=form.name, timezone=form.timezone)
    if errors:
        return await _page(request, user, estate_id, 422, values=data, errors=errors)
    answer = await put(user.token, estate_id, body)
    if not answer.ok:
        problem = explain(answer)
        fields = {}
        for path, message in problem.fields.items():
            top = path.split(".", 1)[0]
            fields.setdefault(top, f"{path}: {message}" if path != top else message)
        return await _page(request, user, estate_id, answer.status if answer.status >= 400 else 502, values=data,
                           errors=fields, **{f"{which}_problem": problem.general})
    return RedirectResponse(f"/setup/{estate_id}?saved={which}", status_code=303)


@router.post("/setup/{estate_id}/estate")
async def save_estate(estate_id: str, request: Request, user: UserDep):
    _require(user, estate_id)
    return await _save(request, user, estate_id, EstateForm, ESTATE_JSON, request.app.state.api.put_estate, "estate")


@router.post("/setup/{estate_id}/policy")
async def save_policy(estate_id: str, request: Request, user: UserDep):
    _require(user, estate_id)
    return await _save(request, user, estate_id, PolicyForm, POLICY_JSON, request.app.state.api.put_policy, "policy")


@router.post("/setup/{estate_id}/fees")
async def save_fees(estate_id: str, request: Request, user: UserDep):
    _require(user, estate_id)
    return await _save(request, user, estate_id, FeesForm, FEES_JSON, request.app.state.api.put_fee_schedule, "fees")
