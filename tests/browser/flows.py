"""Steps the browser tests share: logging a complaint at the desk."""
from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.support import stack_now


async def fill_complaint(page, *, back_hours: float = 0, title: str | None = None, household: str | None = None,
                         category: str = "noise") -> None:
    """Fill the desk form with a resident's complaint, without saving it."""
    title = title or f"电梯噪音 {uuid.uuid4().hex[:6]}"
    await page.goto("/cases/new")
    await page.select_option("#type", "complaint")
    await page.select_option("#category", category)
    await page.select_option("#channel", "phone")
    await page.fill("#title", title)
    await page.fill("#area", "北门")
    await page.fill("#household_id", household or f"H-T-{uuid.uuid4().hex[:8]}")
    await page.select_option("#complaint_origin", "resident")
    if back_hours:
        at = (stack_now() - timedelta(hours=back_hours)).astimezone(ZoneInfo("Asia/Shanghai"))
        await page.fill("#received_at", at.strftime("%Y-%m-%dT%H:%M"))


async def log_complaint(page, **kw) -> str:
    """Log a resident's complaint through the desk form; returns its case id."""
    await fill_complaint(page, **kw)
    async with page.expect_navigation(url="**/cases/C-*"):
        await page.click("#save-case")
    return await page.locator("#case-id").inner_text()
