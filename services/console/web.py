"""What every console page shares: templates, the signed-in user, CSRF, the language."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, PrefixLoader, select_autoescape

from estatedesk.auth import GROUP_ROLES, InvalidToken, read_token

from .i18n import DEFAULT_LANGUAGE, LANGUAGES, translate

ROOT = Path(__file__).resolve().parent
AREAS = ("auth", "cases", "queues", "boards", "setup", "inbox", "mailbox")
SESSION_COOKIE = "ed_session"
LANG_COOKIE = "ed_lang"
DEFAULT_TZ = "Asia/Shanghai"


def template_environment() -> Environment:
    loaders = {area: FileSystemLoader(ROOT / area / "templates") for area in AREAS}
    loaders["layout"] = FileSystemLoader(ROOT / "templates")
    env = Environment(loader=PrefixLoader(loaders), autoescape=select_autoescape(["html"]))
    env.filters["localtime"] = localtime
    env.filters["yuan"] = lambda fen: f"{(fen or 0) / 100:.2f}"
    return env


def localtime(value: Any, tz: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO timestamp from the API shown in the estate's timezone; '' for nothing."""
    if not value:
        return ""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(ZoneInfo(tz or DEFAULT_TZ)).strftime(fmt)


@dataclass(frozen=True)
class User:
    user: str
    role: str
    estates: tuple[str, ...]
    token: str

    @property
    def is_group(self) -> bool:
        return self.role in GROUP_ROLES

    @property
    def home_estate(self) -> str | None:
        return self.estates[0] if self.estates else None


class SignInRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the sign-in page."""


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def session_user(request: Request) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        p = read_token(request.app.state.settings.estatedesk_secret, token)
    except InvalidToken:
        return None
    return User(user=p.user, role=p.role, estates=p.estates, token=token)


def require_user(request: Request) -> User:
    user = session_user(request)
    if user is None:
        raise SignInRequired()
    return user


UserDep = Annotated[User, Depends(require_user)]


def csrf_token(secret: str, session_token: str) -> str:
    """Per-session CSRF token: an HMAC of the session, so nothing needs to be stored."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()[:40]


def check_csrf(request: Request, user: User, submitted: str | None) -> None:
    expected = csrf_token(request.app.state.settings.estatedesk_secret, user.token)
    if not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "csrf: the form is stale or was not sent by this console; reload the page")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    user = session_user(request)
    settings = request.app.state.settings
    base = {
        "request": request, "lang": lang, "user": user,
        "t": lambda key, **kw: translate(lang, key, **kw),
        "csrf": csrf_token(settings.estatedesk_secret, user.token) if user else "",
        "tz": context.pop("tz", None) or DEFAULT_TZ,
        "path": request.url.path,
    }
    html = request.app.state.templates.get_template(template).render(**base, **context)
    return HTMLResponse(html, status_code=status_code)
