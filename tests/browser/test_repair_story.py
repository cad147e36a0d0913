"""The whole repair story through the console, as the people who do it (issue 11, Tests)."""
from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from services.console.i18n import CATALOGUES

from .conftest import reload_until


async def give(page, command: str, fields: dict | None = None) -> None:
    """Open a command's form on the case page, fill it, submit, and land on the case page again."""
    await page.click(f"#cmd-{command} summary")
    for name, value in (fields or {}).items():
        selector = f"#f-{command}-{name}"
        if await page.locator(selector).evaluate("el => el.tagName") == "SELECT":
            await page.select_option(selector, value)
        else:
            await page.fill(selector, value)
    async with page.expect_navigation():
        await page.click(f"#submit-{command}")
    await expect(page.locator(f"#problem-{command}")).to_have_count(0)


async def status_is(page, status: str) -> None:
    await expect(page.locator("#case-status")).to_have_attribute("data-status", status)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_an_in_home_repair_from_the_call_to_the_archive(desk, lang):
    title = f"厨房水管漏水 {uuid.uuid4().hex[:6]}"
    label = CATALOGUES[lang]
    front = await desk("e001-desk-zhao", lang=lang)
    page = front.page
    await page.goto("/cases/new")
    await page.select_option("#type", "repair")
    await page.select_option("#category", "plumbing")
    await page.select_option("#channel", "phone")
    await page.fill("#title", title)
    await page.fill("#building", "3")
    await page.fill("#unit", "2")
    await page.fill("#room", "1502")
    await expect(page.locator("#household_id")).to_have_value("H-3-2-1502")  # derived from the pickers
    await page.select_option("#repair_scope", "in_home")
    await page.select_option("#repair_in_warranty", "false")
    await page.fill("#repair_override_reason", "住户自行改装的管道")
    await page.fill("#reporter_name", "王女士")
    await page.fill("#reporter_phone", "13812345678")
    await front.shot("desk-new-repair")
    await page.focus("#title")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")  # keyboard-only: Enter submits the form
    await expect(page.locator("#created-notice")).to_be_visible()
    case_id = await page.locator("#case-id").inner_text()
    await expect(page.locator("#created-warranty")).to_contain_text(label["warranty.false"])
    await front.shot(f"case-created-{lang}")

    engineer = await desk("e001-eng-sun", lang=lang)
    work = engineer.page
    await work.goto("/queues/department")
    await reload_until(work, f'tr[data-case="{case_id}"]')
    await engineer.shot("queue-my-department")
    async with work.expect_navigation():
        await work.click(f'tr[data-case="{case_id}"] a')
    await status_is(work, "dispatched")
    await give(work, "accept")
    await status_is(work, "accepted")
    await give(work, "start")
    await status_is(work, "in_progress")
    await give(work, "complete", {"result": "更换厨房下水管", "charge_code_0": "PL-TRAP", "charge_quantity_0": "1"})
    await status_is(work, "completed")
    await engineer.shot("case-completed")

    supervisor = await desk("e001-supervisor-qian", lang=lang)
    review = supervisor.page
    await review.goto(f"/cases/{case_id}")
    await give(review, "inspect", {"passed": "yes", "inspector_role": "owner"})
    await status_is(review, "inspected")
    await give(review, "review", {"notes": "照片已核对"})
    await status_is(review, "reviewed")

    await page.goto("/queues/visits")
    await reload_until(page, f'tr[data-case="{case_id}"]')
    await page.goto(f"/cases/{case_id}")
    await give(page, "return-visit", {"method": "phone", "satisfaction": "satisfied", "comments": "很快很干净"})
    await status_is(page, "visited")
    await give(page, "archive")
    await status_is(page, "archived")

    timeline = page.locator("#timeline li")
    events = await timeline.evaluate_all("items => items.map(li => li.dataset.event)")
    for event in ("CaseReceived", "CaseAccepted", "WorkStarted", "WorkCompleted", "InspectionRecorded",
                  "SupervisorReviewed", "ReturnVisitRecorded", "CaseArchived"):
        assert event in events, f"{event} missing from the timeline {events}"
    await expect(page.locator('#timeline li[data-event="WorkCompleted"]')).to_contain_text("更换厨房下水管")
    await expect(page.locator('#timeline li[data-event="ReturnVisitRecorded"]')).to_contain_text("很快很干净")
    await expect(page.locator('#timeline li[data-event="CaseAccepted"]')).to_contain_text("e001-eng-sun")
    await expect(page.locator('#deadlines tr[data-rule="engineering_notified"]')).to_have_attribute("data-state", "met")
    await expect(page.locator("#charges")).to_contain_text("35.00")
    await expect(page.locator("#charges")).to_contain_text("Kitchen P-trap")  # priced by the fee schedule
    await front.shot(f"case-archived-{lang}")
