"""The live dashboard and the inbox, fed by the SLA service while the pages stay open."""
from __future__ import annotations

import re

from playwright.async_api import expect

from tests.conftest import token_for
from tests.support import eventually

from .conftest import reload_until
from .flows import log_complaint


async def test_a_late_complaint_turns_breached_on_the_open_dashboard(stack, analytics, desk):
    supervisor = await desk("e001-supervisor-qian")
    board = supervisor.page
    await board.goto("/boards/dashboard")
    await board.evaluate("window.stayedOnThePage = true")

    front = await desk("e001-desk-zhao")
    case_id = await log_complaint(front.page, back_hours=25)

    await expect(board.locator(f'#breached-table tr[data-case="{case_id}"]')).to_be_visible(timeout=60_000)
    assert await board.evaluate("window.stayedOnThePage === true"), "the dashboard reloaded"
    await expect(board.locator("#updated-ago")).to_have_text(re.compile(r"^\d+$"))
    supervisor_token = token_for(stack, "supervisor", ("E001",), "e001-supervisor-qian")

    async def shows_the_api_s_figure():
        answer = (await analytics.get("/v1/dashboard", params={"estate_id": "E001"},
                                      headers=supervisor_token)).json()
        shown = int(await board.locator("#breaches-today").inner_text())
        return shown == answer["breaches_today"] and (shown, answer)
    await eventually(shows_the_api_s_figure, timeout=15, what="today's breaches as the API counts them")
    await supervisor.shot("dashboard-breached")


async def test_an_escalation_reaches_the_supervisor_once_and_one_mail_is_sent(desk, mailbox):
    front = await desk("e001-desk-zhao")
    case_id = await log_complaint(front.page, back_hours=25)

    supervisor = await desk("e001-supervisor-qian")
    inbox = supervisor.page
    await inbox.goto("/inbox")
    row = f'#inbox-table tr[data-case="{case_id}"][data-event="EscalationRaised"]'
    await reload_until(inbox, row, timeout=60)
    await expect(inbox.locator(row)).to_have_count(1)
    await expect(inbox.locator("#unread-badge")).not_to_have_text("", timeout=15_000)
    await supervisor.shot("inbox-escalation")

    async def escalation_mails():
        return [m for m in mailbox.about(case_id) if "EscalationRaised" in str(m["Subject"])
                and m["To"] == "e001-supervisor-qian@demo.estatedesk.invalid"]

    mails = await eventually(escalation_mails, timeout=30, what="the escalation e-mail")
    assert len(mails) == 1
    await inbox.reload()
    await expect(inbox.locator(row)).to_have_count(1)
