"""Browser tests: Debian's Chromium driven by Playwright against the session stack.

Never `playwright install`: the browser is the system's /usr/bin/chromium (the Makefile and
.ci/run install it when missing). Screenshots of the key pages go to tests/artifacts/
(git-ignored)."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import pytest_asyncio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DEMO_PASSWORD = "demo1234"
TIMEOUT_MS = 30_000


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser(stack):
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `apt-get install -y chromium` (make test does)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def console_url(stack):
    return stack.url("console")


class Desk:
    """One person's browser session on the console."""

    def __init__(self, user: str):
        self.user = user

    async def open(self, browser, base_url: str, lang: str = "zh-CN", viewport=(1366, 768)) -> "Desk":
        self.context = await browser.new_context(base_url=base_url, locale=lang,
                                                 viewport={"width": viewport[0], "height": viewport[1]})
        self.context.set_default_timeout(TIMEOUT_MS)
        if lang != "zh-CN":
            await self.context.add_cookies([{"name": "ed_lang", "value": lang, "url": base_url}])
        self.page = await self.context.new_page()
        await self.page.goto("/login")
        await self.page.fill("#user", self.user)
        await self.page.fill("#password", DEMO_PASSWORD)
        async with self.page.expect_navigation():
            await self.page.keyboard.press("Enter")  # Enter submits
        assert self.page.url.rstrip("/") == base_url.rstrip("/"), f"sign-in as {self.user} failed: {self.page.url}"
        return self

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    async def close(self) -> None:
        await self.context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def desk(browser, console_url):
    opened: list[Desk] = []

    async def open_as(user: str, **kw) -> Desk:
        d = await Desk(user).open(browser, console_url, **kw)
        opened.append(d)
        return d

    yield open_as
    for d in opened:
        await d.close()


class Mailbox:
    """A local SMTP server (aiosmtpd) collecting every message the console sends."""

    def __init__(self, port: int):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self._lock = threading.Lock()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes

                with mailbox._lock:
                    mailbox.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def about(self, case_id: str) -> list:
        with self._lock:
            return [m for m in self.messages if case_id in str(m["Subject"])]


@pytest.fixture(scope="module")
def mailbox(stack):
    box = Mailbox(stack.settings.console_smtp_port)
    box.controller.start()
    yield box
    box.controller.stop()


async def reload_until(page, selector: str, *, timeout: float = 30.0) -> None:
    """Reload a page until `selector` is on it (for lists fed by asynchronous consumers)."""
    from tests.support import eventually

    async def probe():
        if await page.locator(selector).count():
            return True
        await page.reload()
        return False
    await eventually(probe, timeout=timeout, interval=0.5, what=f"{selector} on {page.url}")
