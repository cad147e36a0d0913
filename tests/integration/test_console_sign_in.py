"""Signing in to the console: the API's own token, the page's cookie and CSRF token, lockout after
five failures, the CLI."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import httpx

from estatedesk.auth import read_token
from services.console.auth import accounts


async def test_a_session_answers_the_token_the_apis_take(stack, pool):
    user = f"desk-{uuid.uuid4().hex[:6]}"
    await accounts.add_account(pool, user_id=user, display_name="前台 测试", role="front_desk", estates=["E001"],
                               password="right-password")
    async with httpx.AsyncClient(base_url=stack.url("console"), timeout=10) as console:
        answer = await console.post("/v1/sessions", json={"user": user, "password": "right-password"})
        assert answer.status_code == 201
        token = answer.json()["token"]
        principal = read_token(stack.settings.estatedesk_secret, token)
        assert (principal.user, principal.role, principal.estates) == (user, "front_desk", ("E001",))
        async with httpx.AsyncClient(base_url=stack.url("analytics"), timeout=10) as analytics:
            listed = await analytics.get("/v1/cases", params={"limit": 1},
                                         headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200

        bad = await console.post("/v1/sessions", json={"user": user, "password": "x", "remember": True})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "remember"]


async def test_five_wrong_passwords_lock_the_account(stack, pool):
    user = f"eng-{uuid.uuid4().hex[:6]}"
    await accounts.add_account(pool, user_id=user, display_name=user, role="department_staff", estates=["E001"],
                               password="right-password", department="engineering")
    async with httpx.AsyncClient(base_url=stack.url("console"), timeout=10) as console:
        codes = [(await console.post("/v1/sessions", json={"user": user, "password": "wrong"})).status_code
                 for _ in range(5)]
        assert codes == [401, 401, 401, 401, 423]
        locked = await console.post("/v1/sessions", json={"user": user, "password": "right-password"})
        assert locked.status_code == 423 and "locked" in locked.json()["detail"]


def test_the_cli_adds_resets_and_disables_accounts(stack):
    user = f"butler-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "DATABASE_URL": stack.settings.database_url}

    def estatedesk(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "estatedesk.cli", "user", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    def sign_in(password: str) -> httpx.Response:
        return httpx.post(f"{stack.url('console')}/v1/sessions", json={"user": user, "password": password}, timeout=10)

    assert estatedesk("add", user, "--role", "butler", "--estate", "E001", "--password", "first-pass").returncode == 0
    assert estatedesk("add", user, "--role", "butler", "--password", "first-pass").returncode == 1  # exists
    assert sign_in("first-pass").status_code == 201
    assert estatedesk("passwd", user, "--password", "second-pass").returncode == 0
    assert sign_in("first-pass").status_code == 401
    assert sign_in("second-pass").status_code == 201
    assert estatedesk("disable", user).returncode == 0
    refused = sign_in("second-pass")
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
    assert estatedesk("passwd", user, "--password", "short").returncode == 2


async def test_the_page_sign_in_keeps_the_token_in_an_httponly_lax_cookie_and_forms_need_the_csrf_token(stack, pool):
    user = f"desk-{uuid.uuid4().hex[:6]}"
    await accounts.add_account(pool, user_id=user, display_name=user, role="front_desk", estates=["E001"],
                               password="right-password")
    async with httpx.AsyncClient(base_url=stack.url("console"), timeout=10) as console:
        signed_in = await console.post("/login", data={"user": user, "password": "right-password", "next": "/"})
        assert signed_in.status_code == 303, signed_in.text
        [cookie] = signed_in.headers.get_list("set-cookie")
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite", "path"} <= attributes and "samesite=lax" in cookie.lower()
        page = await console.get("/")
        assert page.status_code == 200, page.text[:300]
        [csrf] = set(re.findall(r'name="csrf" value="([0-9a-f]+)"', page.text))

        for forged in ({}, {"csrf": "0" * len(csrf)}):
            refused = await console.post("/logout", data=forged)
            assert refused.status_code == 403, refused.text[:300]
        assert (await console.get("/")).status_code == 200  # still signed in
        signed_out = await console.post("/logout", data={"csrf": csrf})
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"


async def test_passwords_are_stored_only_as_argon2id_hashes(stack, pool):
    from services.console.auth.demo import DEMO_PASSWORD

    async with pool.acquire() as conn:
        hashes = [r["password_hash"] for r in await conn.fetch("SELECT password_hash FROM console_accounts")]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(DEMO_PASSWORD in h for h in hashes)
    assert accounts.hash_password(DEMO_PASSWORD) != accounts.hash_password(DEMO_PASSWORD)  # salted
