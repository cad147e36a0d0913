"""Monthly figures on a few hand-made case views."""
from __future__ import annotations

from services.analytics.domain.month_report import change, figures, percentile


def view(case_id, type_="repair", **over):
    base = {"case_id": case_id, "type": type_, "category": "plumbing", "channel": "phone", "status": "archived",
            "departments": ["engineering"], "received_at": "2026-10-01T09:00:00+08:00",
            "first_response_at": None, "completed_at": None, "closed_at": None, "deadlines": [], "escalations": [],
            "return_visits": [], "repeat_of": None, "charges": [],
            "location": {"building": "3", "area": None}}
    return {**base, **over}


VIEWS = [
    view("A", first_response_at="2026-10-01T09:10:00+08:00", completed_at="2026-10-01T11:00:00+08:00",
         deadlines=[{"rule": "engineering_notified", "met_at": "2026-10-01T09:02:00+08:00", "breached": False}],
         return_visits=[{"satisfaction": "dissatisfied"}, {"satisfaction": "satisfied"}],
         charges=[{"total_fen": 7800}]),
    view("B", first_response_at="2026-10-01T09:30:00+08:00", completed_at="2026-10-02T09:00:00+08:00",
         deadlines=[{"rule": "engineering_notified", "met_at": None, "breached": True}],
         escalations=[{"level": 1}]),
    view("C", "consultation", category="fees", departments=["customer_service"],
         first_response_at="2026-10-01T09:05:00+08:00", closed_at="2026-10-01T10:00:00+08:00",
         location={"building": None, "area": "front desk"}),
    view("D", "complaint", category="noise", status="cancelled", departments=[], repeat_of="X",
         closed_at="2026-10-01T09:20:00+08:00", file_card={"opened_at": "2026-10-02T09:00:00+08:00"}),
]


def test_the_figures_of_a_small_month():
    f = figures(VIEWS)
    assert f["total"] == 4 and f["by_type"] == {"repair": 2, "consultation": 1, "complaint": 1}
    assert f["by_department"] == {"engineering": 2, "customer_service": 1, "unrouted": 1}
    assert f["response_seconds"] == {"count": 3, "median": 600, "p90": 1800}
    assert f["resolution_seconds"] == {"count": 3, "median": 7200, "p90": 86400}  # cancelled D is unresolved
    assert f["sla_compliance"] == {"engineering_notified": {"met": 1, "breached": 1, "compliance": 0.5}}
    assert f["breaches"] == 1 and f["escalations_by_level"] == {"1": 1} and f["repeat_complaints"] == 1
    assert f["file_cards_opened"] == 1
    assert f["return_visits"] == {"completed": 2, "visited": 1, "coverage": 0.5, "satisfaction": {"satisfied": 1},
                                  "satisfied_share": 1.0}
    assert f["paid_work"] == {"cases": 1, "total_fen": 7800}
    assert f["top_problems"][0] == {"location": "building 3", "category": "plumbing", "count": 2}


def test_change_against_last_month():
    now, before = figures(VIEWS), figures(VIEWS[:2])
    assert change(now, before)["total"] == {"previous": 2, "delta": 2, "percent": 100.0}
    assert change(now, before)["by_type"]["consultation"] == {"previous": 0, "delta": 1, "percent": None}


def test_nearest_rank_percentiles():
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3 and percentile([5, 1, 3, 2, 4], 0.9) == 5
    assert percentile([], 0.5) is None
