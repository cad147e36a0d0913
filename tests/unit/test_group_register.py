"""The group's complaint register (002 §4.2.2): progress notes and the final result of each
complaint the group transfers in, recorded by intake and shown by the read side."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from estatedesk.contracts import encode
from estatedesk.lifecycle.state import CaseState, evolve, started
from services.analytics.domain.case_view import apply_all, for_reader
from services.analytics.domain.group_register import register
from services.analytics.domain.month_report import figures
from services.intake.domain.commands import COMMANDS, Actor

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
DESK, SUPERVISOR, BUTLER = Actor("desk", "front_desk"), Actor("qian", "supervisor"), Actor("li", "butler")
GROUP = Actor("lin", "group_service_center")
FROM_GROUP = {"origin": "group_center", "group_ref": "GRP-2026-1182"}
CLOSED_BY_WORK = (("progress", GROUP, {"note": "guard interviewed"}), ("accept", BUTLER, {}), ("start", BUTLER, {}),
                  ("complete", BUTLER, {"result": "guard retrained, apology made"}),
                  ("inspect", DESK, {"passed": True, "inspector_role": "property_assistant"}),
                  ("review", SUPERVISOR, {}),
                  ("return-visit", DESK, {"method": "phone", "satisfaction": "neutral"}))
_ids = itertools.count(1)


def received(complaint: dict | None) -> dict:
    return {"type": "complaint", "category": "service", "channel": "group_transfer", "title": "Rude guard",
            "description": "", "location": {"area": "north gate"}, "priority": "normal",
            "reporter": {"household_id": "H-1", "phone_masked": "138****5678"},
            "received_at": "2026-11-22T09:00:00+08:00", "complaint": complaint}


class Story:
    """A complaint driven through the domain's commands; its events kept as stored envelopes."""

    def __init__(self, complaint: dict | None = FROM_GROUP, case_id: str = "C-1"):
        self.case_id, self.at = case_id, NOW
        self.state: CaseState = started(case_id, "E001", received(complaint))
        self.events = [self._stored("CaseReceived", received(complaint))]
        self._routed()

    def _stored(self, kind: str, payload: dict, own: bool = True) -> dict:
        n = next(_ids)
        return {"event_id": f"00000000-0000-0000-0000-{n:012d}", "event_type": kind, "case_id": self.case_id,
                "estate_id": "E001", "occurred_at": self.at.isoformat(), "producer": "intake" if own else "dispatch",
                "stream_version": n if own else None, "payload": payload}

    def _routed(self) -> None:
        payload = {"departments": ["customer_service"], "dispatched_at": NOW.isoformat()}
        self.events.append(self._stored("CaseDispatched", payload, own=False))
        self.state = evolve(self.state, "CaseDispatched", payload, event_id=self.events[-1]["event_id"],
                            own_stream=False)

    def do(self, command: str, actor: Actor, data: dict, **related) -> list[str]:
        self.at += timedelta(minutes=10)
        recorded = COMMANDS[command](self.state, data, actor, self.at, **related)
        for payload in recorded:
            kind = type(payload).event_type()
            self.events.append(self._stored(kind, encode(payload)))
            self.state = evolve(self.state, kind, encode(payload))
        return [type(p).event_type() for p in recorded]

    def given(self, *steps) -> Story:
        for command, actor, data in steps:
            self.do(command, actor, data)
        return self

    def reported(self) -> dict:
        [result] = [e["payload"] for e in self.events if e["event_type"] == "GroupComplaintResultReported"]
        return result

    def view(self) -> dict:
        return apply_all(None, self.events)


def test_archiving_a_transferred_complaint_reports_its_result_to_the_group_in_the_same_command():
    story = Story().given(*CLOSED_BY_WORK)
    assert story.do("archive", DESK, {}) == ["CaseArchived", "GroupComplaintResultReported"]
    assert story.reported() == {"group_ref": "GRP-2026-1182", "outcome": "archived",
                                "result": "guard retrained, apology made", "satisfaction": "neutral",
                                "merged_into_case_id": None, "closed_at": story.at.isoformat().replace("+00:00", "Z")}


def test_the_result_is_the_last_completion_and_the_visit_after_it():
    story = Story().given(*CLOSED_BY_WORK[:-1], ("return-visit", DESK, {"method": "phone",
                                                                         "satisfaction": "dissatisfied"}),
                          ("complete", BUTLER, {"result": "guard moved to another post"}), *CLOSED_BY_WORK[-3:],
                          ("archive", DESK, {}))
    assert (story.reported()["result"], story.reported()["satisfaction"]) == ("guard moved to another post", "neutral")


def test_a_complaint_closed_without_work_still_reports_how_it_closed():
    cancelled = Story()
    assert cancelled.do("cancel", DESK, {"reason": "withdrawn by the group centre"}) == [
        "CaseCancelled", "GroupComplaintResultReported"]
    assert (cancelled.reported()["outcome"], cancelled.reported()["result"]) == (
        "cancelled", "withdrawn by the group centre")
    target = Story(case_id="C-2").state
    merged = Story(case_id="C-3")
    merged.do("merge", DESK, {"into_case_id": "C-2"}, target=target)
    assert (merged.reported()["outcome"], merged.reported()["merged_into_case_id"]) == ("merged", "C-2")


def test_a_residents_complaint_sends_nothing_to_the_group():
    story = Story(complaint={"origin": "resident"}).given(*CLOSED_BY_WORK)
    assert story.do("archive", DESK, {}) == ["CaseArchived"]
    assert [e["payload"]["for_group_register"] for e in story.events if e["event_type"] == "ProgressNoted"] == [False]


def test_a_transfer_without_a_reference_is_on_the_register_all_the_same():
    story = Story(complaint={"origin": "quality_office"}).given(*CLOSED_BY_WORK, ("archive", DESK, {}))
    [noted] = [e["payload"] for e in story.events if e["event_type"] == "ProgressNoted"]
    assert noted["for_group_register"] is True and noted["group_ref"] is None
    assert story.reported()["group_ref"] is None


def test_the_view_holds_the_reference_every_progress_note_and_the_result():
    story = Story().given(*CLOSED_BY_WORK, ("progress", SUPERVISOR, {"note": "result phoned to the group"}),
                          ("archive", DESK, {}))
    view = story.view()
    assert (view["group_ref"], view["complaint_origin"], view["on_group_register"]) == (
        "GRP-2026-1182", "group_center", True)
    assert [(n["note"], n["actor_role"]) for n in view["progress_notes"]] == [
        ("guard interviewed", "group_service_center"), ("result phoned to the group", "supervisor")]
    assert view["group_result"]["outcome"] == "archived" and view["status"] == "archived"
    [entry] = register([view])
    assert entry["result"] == view["group_result"] and entry["progress_notes"] == view["progress_notes"]
    assert "reporter" not in entry


def test_the_register_lists_only_transferred_complaints_and_the_month_counts_their_results():
    closed = Story(case_id="C-10").given(*CLOSED_BY_WORK, ("archive", DESK, {})).view()
    open_ = Story(complaint={"origin": "quality_office"}, case_id="C-11").given(*CLOSED_BY_WORK[:2]).view()
    residents = Story(complaint={"origin": "resident"}, case_id="C-12").given(*CLOSED_BY_WORK,
                                                                               ("archive", DESK, {})).view()
    assert [e["case_id"] for e in register([residents, open_, closed])] == ["C-10", "C-11"]
    assert figures([closed, open_, residents])["group_register"] == {"transferred": 2, "results_reported": 1}


def test_views_written_before_the_register_count_by_their_reference():
    old = {k: v for k, v in Story(case_id="C-20").view().items()
           if k not in ("on_group_register", "progress_notes", "group_result")}
    assert register([old])[0]["progress_notes"] == [] and register([old])[0]["result"] is None


def test_a_confidential_consultations_notes_are_withheld_in_the_view_as_in_the_history():
    view = {"consultation": {"confidential": True}, "description": "", "history": [], "return_visits": [],
            "progress_notes": [{"at": NOW.isoformat(), "note": "private matter", "actor": "qian",
                                "actor_role": "supervisor"}]}
    assert for_reader(view, "butler")["progress_notes"][0]["note"] == "(confidential)"
    assert for_reader(view, "supervisor")["progress_notes"][0]["note"] == "private matter"
