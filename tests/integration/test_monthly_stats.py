"""The monthly statistics at volume: a generated month for 20 estates (12,000 cases, about
130,000 events) and 1,200 cases of the month before. (`estatedesk simulate` writes 50,000 by
default; `bench/projection.py` and `bench/queues.py` measure larger volumes.)

What it proves: at that volume the projection folds every stored event into the case views
and `GET /v1/stats/monthly` answers with exactly the figures a recount of those stored events
gives (tests/recount.py, which shares no code with the analytics service), group-wide and per
estate; the exports carry the report's figures.

What it does not prove: anything about the events the services emit. estatedesk/traffic.py
writes the month straight into the store in the shapes it believes the services use, and
records dispatch and the SLA service as caught up, so no command, dispatch decision or SLA
clock of the services runs here. tests/integration/test_monthly_recount.py recounts a month
driven through the services' public API instead.
"""
from __future__ import annotations

import csv
import io

import pytest
import pytest_asyncio
from openpyxl import load_workbook

from estatedesk.replay import rebuild_projection
from estatedesk.traffic import generate
from services.analytics import month_tallies, projection
from tests.conftest import token_for
from tests.integration.test_replay import _caught_up
from tests.recount import differences, report, stored_cases
from tests.support import eventually

MONTH, PREVIOUS = "2026-10", "2026-09"


@pytest_asyncio.fixture(scope="module")
async def generated_month(pool):
    events = await generate(pool, estates=20, cases=12_000, month=MONTH, seed=11, progress=False)
    events += await generate(pool, estates=20, cases=1_200, month=PREVIOUS, seed=12, progress=False)
    await rebuild_projection(pool, projection.CONSUMER, projection.rebuild_cases, projection.forget, progress=False)
    await eventually(lambda: _caught_up(pool), timeout=120, what="projection of the generated months")
    return events


@pytest.mark.parametrize("estate", [None, "S007"], ids=["group-wide", "one estate"])
async def test_at_volume_every_served_figure_is_a_recount_of_the_stored_events(stack, analytics, pool,
                                                                               generated_month, estate):
    assert generated_month > 100_000  # the volume this is about
    group = token_for(stack, "group_admin", (), "group-analyst")
    params = {"month": MONTH, **({"estate_id": estate} if estate else {})}
    response = await analytics.get("/v1/stats/monthly", params=params, headers=group)
    assert response.status_code == 200, response.text
    # group-wide, the month holds every stored case received in it, the generated ones and any other
    cases = await stored_cases(pool, None if estate is None else [estate])
    found = differences(response.json(), report(cases, MONTH, estate))
    assert not found, "\n".join(found)


async def test_the_month_exports_the_figures_it_serves_with_bilingual_headers(stack, analytics, generated_month):
    group = token_for(stack, "group_admin", (), "group-analyst")
    one = {"month": MONTH, "estate_id": "S003"}
    served = (await analytics.get("/v1/stats/monthly", params=one, headers=group)).json()
    as_csv = await analytics.get("/v1/stats/monthly.csv", params=one, headers=group)
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert table[0] == ["指标 / Figure", "项目 / Item", "数值 / Value"]
    assert ["案件总数 / Total cases", "-", str(served["total"])] in table
    assert ["有偿服务 / Paid work", "total_fen", str(served["paid_work"]["total_fen"])] in table
    group_wide = (await analytics.get("/v1/stats/monthly", params={"month": MONTH}, headers=group)).json()
    as_xlsx = await analytics.get("/v1/stats/monthly.xlsx", params={"month": MONTH}, headers=group)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [c.value for c in sheet[1]] == ["指标 / Figure", "项目 / Item", "数值 / Value"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]
    assert ("案件总数 / Total cases", "-", group_wide["total"]) in rows
    assert group_wide["total"] >= 12_000


async def test_statistics_are_scoped_to_the_readers_estates(stack, analytics):
    desk = token_for(stack, "front_desk", ("E001",), "e001-desk")
    assert (await analytics.get("/v1/stats/monthly", params={"month": MONTH, "estate_id": "S001"},
                                headers=desk)).status_code == 403
    assert (await analytics.get("/v1/stats/monthly", params={"month": "2026-13"}, headers=desk)).status_code == 422
    own = await analytics.get("/v1/stats/monthly", params={"month": MONTH}, headers=desk)
    assert own.status_code == 200 and own.json()["estate_id"] == "E001"


async def test_views_stored_before_the_tallies_were_kept_are_counted_once_at_start(stack, analytics, pool,
                                                                                  generated_month):
    group = token_for(stack, "group_admin", (), "group-analyst")
    params = {"month": MONTH, "estate_id": "S004"}
    served = (await analytics.get("/v1/stats/monthly", params=params, headers=group)).json()
    async with pool.acquire() as conn:  # as a database upgraded from before migration 0014 holds it
        await conn.execute("DELETE FROM month_counts WHERE month = $1", MONTH)
        await conn.execute("DELETE FROM month_durations WHERE month = $1", MONTH)
        await conn.execute("DELETE FROM read_model_builds WHERE name = $1", month_tallies.BUILD)
    emptied = (await analytics.get("/v1/stats/monthly", params=params, headers=group)).json()
    assert emptied["total"] == 0 and served["total"] > 0
    async with pool.acquire() as conn:  # the other months' tallies go too, as a database without them has none
        await conn.execute("TRUNCATE month_counts, month_durations")
    await month_tallies.count_stored_views(pool)
    await month_tallies.count_stored_views(pool)  # a second start counts nothing again
    assert (await analytics.get("/v1/stats/monthly", params=params, headers=group)).json() == served
