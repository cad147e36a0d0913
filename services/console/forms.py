"""Reading posted forms into typed models, and their errors into `{field: message}`."""
from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError


class CsrfForm(BaseModel):
    """A form that carries nothing but its CSRF token (sign out, mark all read)."""

    model_config = ConfigDict(extra="forbid")
    csrf: str = ""


async def form_dict(request: Request) -> dict[str, str]:
    """The posted form as a plain dict; empty strings stay (the model decides what they mean)."""
    form = await request.form()
    return {key: str(value).strip() for key, value in form.items()}


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"]) or "_"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a field of this form"
        errors.setdefault(name, message)
    return errors


def blank_to_none(data: dict[str, str]) -> dict[str, str | None]:
    return {k: (v if v != "" else None) for k, v in data.items()}
