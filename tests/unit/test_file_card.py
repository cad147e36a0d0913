"""The complaint file card (002 §4.2.1) in the case view: opened by the completion deadline's
breach, filled from the case's facts before and after it."""
from __future__ import annotations

import csv
import io

from services.analytics import export
from services.analytics.domain.month_report import figures
from tests.unit.test_case_view import DISPATCHED, OBLIGATION, RECEIVED, by, clock, event, fold

STARTED = clock("SlaClockStarted", started_at="2026-11-22T09:30:00Z", due_at="2026-11-23T09:30:00Z")
BREACHED = clock("SlaBreached", due_at="2026-11-23T09:30:00Z", breached_at="2026-11-23T09:30:00Z")


def test_no_card_while_the_complaint_is_within_its_deadline_nor_for_another_rules_breach():
    progress = event("SlaBreached", {"obligation_id": "C-1/group_progress_reported/1", "rule": "group_progress_reported",
                                     "due_at": "2026-11-23T09:30:00Z", "breached_at": "2026-11-23T09:30:00Z"}, "sla")
    view = fold(RECEIVED, DISPATCHED, STARTED, progress)
    assert view["file_card"] is None
    met = clock("SlaMet", due_at="2026-11-23T09:30:00Z", met_at="2026-11-22T15:00:00Z", elapsed_seconds=1)
    assert fold(RECEIVED, DISPATCHED, STARTED, event("WorkCompleted", by("supervisor", result="fixed",
                                                                          completion_number=1)), met)["file_card"] is None
    assert figures([view])["file_cards_opened"] == 0


def test_the_breach_opens_a_card_holding_what_happened_before_it():
    accepted = event("CaseAccepted", by("department_staff", department="customer_service"),
                     at="2026-11-22T10:00:00Z")
    noted = event("ProgressNoted", by("supervisor", note="contractor called"), at="2026-11-22T12:00:00Z")
    card = fold(RECEIVED, DISPATCHED, STARTED, accepted, noted, BREACHED)["file_card"]
    assert (card["opened_at"], card["obligation_id"], card["due_at"]) == (
        "2026-11-23T09:30:00Z", OBLIGATION, "2026-11-23T09:30:00Z")
    assert card["complainant"] == {"household_id": "H1", "phone_masked": "138****5678"}
    assert card["matter"] == {"title": "Lift broken", "description": "Lift 2 has stopped between floors for a week",
                              "category": "service", "location": {"building": "3"}, "origin": "resident",
                              "group_ref": None}
    assert (card["received_at"], card["dispatched_at"]) == ("2026-11-22T09:30:00Z", DISPATCHED["occurred_at"])
    assert card["department"] == "customer_service"
    assert card["measures"] == [{"at": "2026-11-22T12:00:00Z", "actor": "user-supervisor", "text": "contractor called"}]
    assert (card["result"], card["completed_at"], card["resident_opinion"], card["supervisor_remarks"]) == (
        None, None, None, [])


def test_the_card_fills_as_the_case_goes_on_and_a_second_breach_opens_no_second_card():
    steps = [
        event("WorkCompleted", by("supervisor", result="motor replaced", completion_number=1), at="2026-11-24T08:00:00Z"),
        event("InspectionRecorded", by("front_desk", passed=True, inspector_role="owner"), at="2026-11-24T09:00:00Z"),
        event("SupervisorReviewed", by("supervisor", notes="log signed"), at="2026-11-24T10:00:00Z"),
        event("ReturnVisitRecorded", by("front_desk", method="phone", satisfaction="dissatisfied",
                                        comments="still noisy"), at="2026-11-24T11:00:00Z"),
        clock("SlaClockStarted", "C-1/complaint_completed/2", started_at="2026-11-24T11:00:00Z",
              due_at="2026-11-25T11:00:00Z"),
        clock("SlaBreached", "C-1/complaint_completed/2", due_at="2026-11-25T11:00:00Z",
              breached_at="2026-11-25T11:00:00Z"),
        event("WorkCompleted", by("supervisor", result="bearing changed", completion_number=2), at="2026-11-26T08:00:00Z"),
        event("ReturnVisitRecorded", by("front_desk", method="door", satisfaction="satisfied", comments="quiet now"),
              at="2026-11-26T09:00:00Z"),
        event("CaseArchived", by("front_desk"), at="2026-11-26T10:00:00Z"),
    ]
    view = fold(RECEIVED, DISPATCHED, STARTED, BREACHED, *steps)
    card = view["file_card"]
    assert card["opened_at"] == "2026-11-23T09:30:00Z" and card["obligation_id"] == OBLIGATION
    assert [m["text"] for m in card["measures"]] == ["motor replaced", "bearing changed"]
    assert (card["result"], card["completed_at"]) == ("bearing changed", "2026-11-26T08:00:00Z")
    assert card["resident_opinion"] == {"at": "2026-11-26T09:00:00Z", "method": "door", "satisfaction": "satisfied",
                                        "comments": "quiet now"}
    assert card["supervisor_remarks"] == [{"at": "2026-11-24T10:00:00Z", "actor": "user-supervisor",
                                           "text": "log signed"}]
    assert view["status"] == "archived" and card["closed_at"] == "2026-11-26T10:00:00Z"
    assert figures([view])["file_cards_opened"] == 1


def test_the_export_has_a_row_a_card_and_no_text_of_it_runs_as_a_formula():
    visited = event("ReturnVisitRecorded", by("front_desk", method="phone", satisfaction="neutral",
                                              comments='=HYPERLINK("http://x","y")'))
    card = fold(RECEIVED, DISPATCHED, STARTED, BREACHED, visited)["file_card"]
    card["matter"] = {**card["matter"], "title": "-1 lift"}
    text = export.cards_to_csv([{"case_id": "C-1", "estate_id": "E001", "status": "visited", **card}])
    assert text.startswith("\ufeff")
    header, row = csv.reader(io.StringIO(text[1:]))
    named = dict(zip(header, row))
    assert named["案件编号 / Case"] == "C-1" and named["电话 / Phone"] == "138****5678"
    assert named["投诉事项 / Matter"] == "'-1 lift" and named["建卡时间 / Card opened"] == "2026-11-23T09:30:00Z"
    assert named["业户意见 / Resident's opinion"] == 'neutral =HYPERLINK("http://x","y")'
