"""The recount the integration tests hold the monthly statistics to (tests/recount.py), on
figures worked out by hand: a wrong reference would pass a wrong service."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

from tests.recount import MEDIAN, P90, Rounded, StoredCase, month_figures, nearest_rank, previous_month, report

T0 = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)  # 23:30 in Shanghai, the last day of November


def test_nearest_rank_is_the_smallest_value_with_that_share_at_or_below_it():
    assert nearest_rank([], MEDIAN) is None
    assert nearest_rank([7.0], P90) == 7.0
    assert nearest_rank([4.0, 1.0, 3.0, 2.0], MEDIAN) == 2.0  # 2 of 4 at or below 2
    assert nearest_rank([5.0, 1.0, 4.0, 2.0, 3.0], MEDIAN) == 3.0
    assert nearest_rank([float(n) for n in range(1, 11)], P90) == 9.0  # exactly 90 % at or below 9
    assert nearest_rank([float(n) for n in range(1, 12)], P90) == 10.0  # 9/11 < 90 % <= 10/11
    assert nearest_rank([1.0, 1.0, 1.0, 8.0], P90) == 8.0


def test_a_served_ratio_must_be_the_exact_one_rounded():
    assert Rounded(Fraction(2, 3), 4) == 0.6667 and Rounded(Fraction(2, 3), 4) != 0.6666
    assert Rounded(Fraction(1, 32), 4) == 0.0312 and Rounded(Fraction(1, 32), 4) == 0.0313  # an exact half
    assert Rounded(Fraction(-100, 3), 2) == -33.33 and Rounded(Fraction(-100, 3), 2) != -33.34
    assert Rounded(Fraction(1, 1), 4) == 1.0 and Rounded(Fraction(1, 1), 4) != True  # noqa: E712
    assert Rounded(Fraction(1, 2), 4) != None  # noqa: E711


def _case(case_id: str, at: datetime, received: dict | None = None, events: list | None = None) -> StoredCase:
    payload = {"type": "repair", "category": "plumbing", "channel": "phone",
               "location": {"building": "3", "unit": "1", "room": "0101", "area": None},
               "received_at": at.isoformat(), **(received or {})}
    case = StoredCase(case_id, "E1", payload, at)
    for kind, event_id, minutes, p in events or []:
        case.take(kind, event_id, at + timedelta(minutes=minutes), p)
    return case


def test_a_case_is_counted_in_the_month_of_the_group_calendar():
    late_evening = _case("A", T0)
    assert late_evening.month == "2026-11"
    assert _case("B", T0 + timedelta(minutes=31)).month == "2026-12"  # past midnight in Shanghai
    assert previous_month("2026-01") == "2025-12" and previous_month("2026-12") == "2026-11"


def test_the_figures_of_a_small_month():
    ob = "A/complaint_completed/"
    worked = _case("A", T0, received={"type": "complaint", "category": "noise"}, events=[
        ("CaseDispatched", "d1", 1, {"departments": ["customer_service"]}),
        ("SlaClockStarted", "s1", 0, {"obligation_id": ob + "1", "rule": "complaint_completed"}),
        ("CaseAccepted", "a", 10, {}),
        ("SlaBreached", "s2", 1440, {"obligation_id": ob + "1"}),
        ("WorkCompleted", "w1", 1500, {}),
        ("SlaMet", "s3", 1500, {"obligation_id": ob + "1"}),  # met after its breach: still breached
        ("CaseReopened", "r", 1600, {}),
        ("SlaClockStarted", "s4", 1600, {"obligation_id": ob + "2", "rule": "complaint_completed"}),
        ("WorkCompleted", "w2", 1700, {}),
        ("SlaMet", "s5", 1700, {"obligation_id": ob + "2"}),
        ("ReturnVisitRecorded", "v1", 1800, {"satisfaction": "dissatisfied"}),
        ("ReturnVisitRecorded", "v2", 1900, {"satisfaction": "satisfied"}),
        ("EscalationRaised", "e1", 1440, {"level": 1}),
        ("RepeatComplaintDetected", "x", 0, {}),
        ("CaseArchived", "z", 2000, {})])
    billed = _case("B", T0, events=[
        ("CaseDispatched", "d2", 1, {"departments": ["engineering"]}),
        ("CaseTransferred", "t", 2, {}),
        ("CaseDispatched", "d3", 3, {"departments": ["cleaning"]}),
        ("CaseAccepted", "a2", 30, {}),
        ("ChargeableWorkCompleted", "bill-1", 60, {"total_fen": 8500, "supersedes_event_id": None}),
        ("ChargeableWorkCompleted", "bill-2", 90, {"total_fen": 9000, "supersedes_event_id": "bill-1"}),
        ("WorkCompleted", "w3", 90, {})])
    replied = _case("C", T0, received={"type": "consultation", "category": None, "location": {"area": "gate"}},
                    events=[("CaseReplied", "r1", 5, {}), ("CaseArchived", "z1", 65, {})])
    cancelled_first = _case("D", T0, events=[("CaseCancelled", "c", 1, {}),
                                             ("CaseDispatched", "d4", 2, {"departments": ["engineering"]})])
    figures = month_figures([worked, billed, replied, cancelled_first])
    assert figures["by_department"] == {"customer_service": 1, "cleaning": 1, "unrouted": 2}
    assert figures["by_category"] == {"complaint/noise": 1, "repair/plumbing": 2, "consultation/none": 1}
    assert figures["response_seconds"] == {"count": 3, "median": 600.0, "p90": 1800.0}
    assert figures["resolution_seconds"] == {"count": 3, "median": 5400.0, "p90": 102000.0}
    assert figures["sla_compliance"] == {"complaint_completed": {"met": 1, "breached": 1, "compliance": 0.5}}
    assert figures["breaches"] == 1 and figures["escalations_by_level"] == {"1": 1}
    assert figures["repeat_complaints"] == 1 and figures["file_cards_opened"] == 1
    assert figures["return_visits"] == {"completed": 2, "visited": 1, "coverage": 0.5,
                                        "satisfaction": {"satisfied": 1}, "satisfied_share": 1.0}
    assert figures["paid_work"] == {"cases": 1, "total_fen": 9000}
    assert figures["top_problems"] == [{"location": "building 3", "category": "plumbing", "count": 2},
                                       {"location": "building 3", "category": "noise", "count": 1},
                                       {"location": "gate", "category": "none", "count": 1}]


def test_the_change_against_last_month():
    now = [_case(n, T0 + timedelta(hours=1)) for n in "ABC"]
    before = [_case("D", T0 - timedelta(days=3), received={"type": "help", "category": "other"}),
              _case("E", T0 - timedelta(days=3))]
    change = report(now + before, "2026-12", None)["change"]
    assert change["total"] == {"previous": 2, "delta": 1, "percent": 50.0}
    assert change["by_type"] == {"repair": {"previous": 1, "delta": 2, "percent": 200.0},
                                 "help": {"previous": 1, "delta": -1, "percent": -100.0}}
    assert report(now, "2026-12", None)["change"]["total"]["percent"] is None


def test_the_group_register_counts_transferred_complaints_and_the_results_reported_back():
    complaint = {"type": "complaint", "category": "service"}
    reported = _case("G1", T0, received={**complaint, "complaint": {"origin": "group_center"}},
                     events=[("CaseArchived", "z", 60, {}), ("GroupComplaintResultReported", "g", 60, {})])
    owed = _case("G2", T0, received={**complaint, "complaint": {"origin": "resident", "group_ref": "QO-7"}})
    residents = _case("R", T0, received={**complaint, "complaint": {"origin": "resident"}},
                      events=[("CaseArchived", "z", 60, {})])
    assert month_figures([reported, owed, residents])["group_register"] == {"transferred": 2, "results_reported": 1}
