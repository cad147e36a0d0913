"""The signed-in person's inbox and its unread count (polled by the badge in every page)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from ..forms import CsrfForm, form_dict
from ..web import UserDep, check_csrf, render
from . import store

router = APIRouter()


@router.get("/inbox")
async def inbox_page(request: Request, user: UserDep):
    items = await store.inbox(request.app.state.pool, user.user)
    return render(request, "inbox/inbox.html", items=items)


@router.get("/inbox/unread.json")
async def unread(request: Request, user: UserDep) -> dict:
    return {"unread": await store.unread(request.app.state.pool, user.user)}


@router.post("/inbox/read")
async def mark_all_read(request: Request, user: UserDep):
    form = CsrfForm.model_validate(await form_dict(request))
    check_csrf(request, user, form.csrf)
    await store.mark_read(request.app.state.pool, user.user)
    return RedirectResponse("/inbox", status_code=303)
