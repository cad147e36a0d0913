"""Each queue filter of `GET /v1/cases` is served by an index (README "Reading cases").

`python -m bench.queues` times the filters at 1,000,000 views; here the test database is small,
so the planner would rightly scan it. With sequential scans priced out (`enable_seqscan = off`)
the planner still chooses one only where no index can serve the query — that is what fails."""
from __future__ import annotations

import pytest

from bench.queues import FILTERS
from services.analytics.projection import list_query


@pytest.mark.parametrize("name", FILTERS)
async def test_the_filter_is_answered_from_an_index(pool, name):
    query, args = list_query(FILTERS[name], 50, None)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {query}", *args))
    assert "Seq Scan" not in plan, plan
