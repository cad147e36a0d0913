"""The front desk is warned of a repeat complaint before it saves one."""
from __future__ import annotations

import uuid

from playwright.async_api import expect

from .flows import fill_complaint, log_complaint


async def test_a_second_complaint_from_a_household_is_flagged_before_saving(desk):
    household = f"H-R-{uuid.uuid4().hex[:8]}"
    front = await desk("e001-desk-zhao")
    page = front.page
    first = await log_complaint(page, household=household, category="noise")

    await fill_complaint(page, household=household, category="noise", title="楼上又在装修")
    await page.click("#save-case")
    await expect(page.locator("#repeat-warning")).to_be_visible()  # the lookup ran; nothing saved yet
    await expect(page.locator(f'#household-result a[href="/cases/{first}"]')).to_be_visible()
    assert "/cases/new" in page.url
    await front.shot("desk-repeat-warning")
    async with page.expect_navigation(url="**/cases/C-*"):
        await page.click("#save-case")  # confirmed
    await expect(page.locator(f'#created-notice a[href="/cases/{first}"]')).to_be_visible()
