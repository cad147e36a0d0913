"""Sign-in and sign-out, the JSON session API, the language switch, and account admin."""
from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from estatedesk.auth import ROLES, bad_estate_ids, issue_token, now_utc

from ..forms import CsrfForm, field_errors, form_dict
from ..i18n import LANGUAGES
from ..web import LANG_COOKIE, SESSION_COOKIE, UserDep, check_csrf, render
from . import accounts

router = APIRouter()
ADMINS = frozenset({"group_admin"})


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class LoginForm(SessionIn):
    next: str = Field("/", max_length=500)


REFUSALS = {"unknown": "login.refused", "wrong_password": "login.refused", "disabled": "login.disabled",
            "locked": "login.locked"}


async def _open_session(request: Request, user: str, password: str):
    app = request.app
    now = app.state.clock()
    attempt, account = await accounts.sign_in(app.state.pool, user, password, now)
    if not attempt.allowed:
        return None, attempt
    ttl = timedelta(hours=app.state.settings.console_session_hours)
    issued = now_utc()  # every service checks a token's expiry on the machine's clock, never a shifted one
    token = issue_token(app.state.settings.estatedesk_secret, role=account["role"], estates=list(account["estates"]),
                        user=account["user_id"], now=issued, ttl=ttl)
    return (token, issued + ttl), attempt


@router.post("/v1/sessions", tags=["sessions"], status_code=201,
             responses={401: {"description": "Unknown user, wrong password or a disabled account"},
                        423: {"description": "Account locked after repeated failures"}})
async def create_session(body: SessionIn, request: Request) -> JSONResponse:
    """Sign in with a staff account; answers the bearer token the intake and analytics APIs take."""
    opened, attempt = await _open_session(request, body.user, body.password)
    if opened is None:
        status = 423 if attempt.reason == "locked" else 401
        detail = {"locked": "account locked after repeated failures; try again later",
                  "disabled": "account disabled"}.get(attempt.reason, "unknown user or wrong password")
        return JSONResponse({"detail": detail}, status_code=status)
    token, expires_at = opened
    return JSONResponse({"token": token, "expires_at": expires_at.isoformat()}, status_code=201)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
async def login_page(request: Request, next: str = "/"):
    return render(request, "auth/login.html", next=_safe_next(next), errors={}, message="")


@router.post("/login")
async def login(request: Request):
    data = await form_dict(request)
    try:
        form = LoginForm.model_validate(data)
    except ValidationError as exc:
        return render(request, "auth/login.html", 422, next=_safe_next(str(data.get("next", "/"))),
                      errors=field_errors(exc), message="", user_value=data.get("user", ""))
    opened, attempt = await _open_session(request, form.user, form.password)
    if opened is None:
        return render(request, "auth/login.html", 401, next=_safe_next(form.next), errors={},
                      message=REFUSALS[attempt.reason], user_value=form.user)
    token, expires_at = opened
    response = RedirectResponse(_safe_next(form.next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        max_age=int(request.app.state.settings.console_session_hours * 3600))
    return response


@router.post("/logout")
async def logout(request: Request, user: UserDep):
    form = CsrfForm.model_validate(await form_dict(request))
    check_csrf(request, user, form.csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
async def switch_language(lang: str, next: str = "/"):
    if lang not in LANGUAGES:
        raise HTTPException(404, f"no language {lang}")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, samesite="lax", path="/", max_age=365 * 86400)
    return response


class AccountForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    csrf: str = ""
    user_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    role: Literal[ROLES]  # type: ignore[valid-type]
    estates: str = Field("", max_length=500, description="comma-separated estate ids")
    department: str = Field("", max_length=50)
    email: str = Field("", max_length=200)
    password: str = Field(min_length=8, max_length=200)

    @field_validator("estates")
    @classmethod
    def _estate_ids(cls, value: str) -> str:
        if bad_estate_ids(estate_list(value)):
            raise ValueError("must be estate ids separated by commas; group-wide access comes from a group role")
        return value


def estate_list(text: str) -> list[str]:
    return [e.strip() for e in text.split(",") if e.strip()]


def _require_admin(user) -> None:
    if user.role not in ADMINS:
        raise HTTPException(403, "only a group admin manages accounts")


async def _accounts_page(request: Request, status: int = 200, **context):
    return render(request, "auth/accounts.html", status, accounts=await accounts.list_accounts(request.app.state.pool),
                  roles=ROLES, **{"errors": {}, "values": {}, "message": "", **context})


@router.get("/admin/accounts")
async def accounts_page(request: Request, user: UserDep):
    _require_admin(user)
    return await _accounts_page(request)


@router.post("/admin/accounts")
async def add_account(request: Request, user: UserDep):
    _require_admin(user)
    data = await form_dict(request)
    check_csrf(request, user, data.get("csrf"))
    try:
        form = AccountForm.model_validate(data)
    except ValidationError as exc:
        return await _accounts_page(request, 422, errors=field_errors(exc), values=data)
    created = await accounts.add_account(
        request.app.state.pool, user_id=form.user_id, display_name=form.display_name, role=form.role,
        estates=estate_list(form.estates), password=form.password,
        department=form.department or None, email=form.email or None)
    if not created:
        return await _accounts_page(request, 409, errors={"user_id": "accounts.exists"}, values=data)
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/{user_id}/disable")
async def disable_account(user_id: str, request: Request, user: UserDep):
    _require_admin(user)
    form = CsrfForm.model_validate(await form_dict(request))
    check_csrf(request, user, form.csrf)
    await accounts.set_disabled(request.app.state.pool, user_id, True)
    return RedirectResponse("/admin/accounts", status_code=303)
