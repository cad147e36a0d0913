"""The same pages in English, and on a phone."""
from __future__ import annotations

import uuid

from playwright.async_api import expect

from .conftest import reload_until


async def test_the_desk_and_case_pages_in_english(desk):
    front = await desk("e001-desk-zhao")
    page = front.page
    await expect(page.locator("h1")).to_have_text("工作台")
    async with page.expect_navigation():
        await page.click('header a[lang="en"]')
    await expect(page.locator("h1")).to_have_text("Workbench")

    await page.goto("/cases/new")
    await expect(page.locator('label[for="title"]')).to_contain_text("Title")
    await page.select_option("#type", "consultation")
    await page.select_option("#category", "fee")
    await page.fill("#title", f"When is the water back? {uuid.uuid4().hex[:6]}")
    await page.fill("#area", "lobby")
    await front.shot("en-desk-new")
    async with page.expect_navigation(url="**/cases/C-*"):
        await page.click("#save-case")
    await expect(page.locator("#created-notice")).to_contain_text("Case saved")
    case_id = await page.locator("#case-id").inner_text()
    await expect(page.locator("#cmd-reply summary")).to_have_text("Reply")
    await page.click("#cmd-reply summary")
    await page.fill("#f-reply-answer", "Water is back at 18:00")
    async with page.expect_navigation():
        await page.click("#submit-reply")
    await expect(page.locator("#case-status")).to_have_text("replied")
    await expect(page.locator('#timeline li[data-event="CaseReplied"]')).to_contain_text("Water is back at 18:00")
    await front.shot("en-case-replied")

    await page.goto("/queues/visits")
    await expect(page.locator("h1")).to_have_text("Return visits due")
    await reload_until(page, f'tr[data-case="{case_id}"]')
    await page.goto("/boards/dashboard")
    await expect(page.locator("h1")).to_contain_text("Live dashboard")
    await page.goto("/boards/handover")
    await expect(page.locator("h1")).to_contain_text("Shift handover")


async def test_a_refused_command_is_a_sentence_beside_its_form(desk):
    front = await desk("e001-desk-zhao", lang="en")
    page = front.page
    await page.goto("/cases/new")
    await page.select_option("#type", "suggestion")
    await page.fill("#title", f"More benches {uuid.uuid4().hex[:6]}")
    await page.fill("#area", "garden")
    async with page.expect_navigation(url="**/cases/C-*"):
        await page.click("#save-case")
    await page.click("#cmd-cancel summary")
    async with page.expect_navigation():
        await page.click("#submit-cancel")  # no reason given
    error = page.locator('#form-cancel [data-field="reason"] .error')
    await expect(error).to_be_visible()
    assert "{" not in await page.locator("#form-cancel").inner_text()


async def test_the_queue_fits_a_phone(desk):
    butler = await desk("e001-butler-li", lang="en", viewport=(390, 844))
    page = butler.page
    await page.goto("/queues/department")
    await expect(page.locator("h1")).to_contain_text("My department")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 392
    await butler.shot("phone-queue")
