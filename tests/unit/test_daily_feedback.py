"""The daily feedback decision (002 §4.7): owed every day, supervisor then estate manager."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.sla.domain.daily_feedback import FeedbackRules, Flag, day_view, due_flags, escalations_of_day, rules_from

SH = ZoneInfo("Asia/Shanghai")
SUNDAY = date(2026, 11, 29)
DEPTS = ["cleaning", "engineering"]


def at(hh, mm=0, day=SUNDAY):
    return datetime.combine(day, time(hh, mm), SH)


def test_a_sunday_miss_tells_the_supervisor_at_17_then_the_estate_manager_two_hours_later():
    rules = FeedbackRules()
    assert due_flags(SUNDAY, DEPTS, {"engineering"}, set(), at(16, 59), SH, rules, False) == []
    first = due_flags(SUNDAY, DEPTS, {"engineering"}, set(), at(17, 1), SH, rules, False)
    assert [(f.department, f.level, f.to_role, f.at) for f in first] == [("cleaning", 1, "supervisor", at(17))]
    later = due_flags(SUNDAY, DEPTS, {"engineering"}, {("cleaning", 1)}, at(19, 0), SH, rules, False)
    assert [(f.level, f.to_role, f.at) for f in later] == [(2, "estate_manager", at(19))]
    assert due_flags(SUNDAY, DEPTS, {"engineering"}, {("cleaning", 1), ("cleaning", 2)}, at(23), SH, rules,
                     False) == []


def test_an_estate_may_ask_for_working_days_only_and_its_own_due_time():
    rules = rules_from({"due_at": "18:30", "working_days_only": True, "manager_after_minutes": 60})
    assert rules == FeedbackRules(time(18, 30), True, timedelta(minutes=60))
    assert due_flags(SUNDAY, DEPTS, set(), set(), at(23), SH, rules, False) == []
    monday = SUNDAY + timedelta(days=1)
    assert len(due_flags(monday, DEPTS, set(), set(), at(18, 30, monday), SH, rules, True)) == 2


def test_the_day_view_names_who_reported_and_who_missed():
    view = day_view(SUNDAY, DEPTS, {"engineering": {"department": "engineering", "summary": "ok"}},
                    [{"department": "cleaning", "level": 1, "to_role": "supervisor"}], at(18), SH, FeedbackRules(),
                    False)
    assert view["reported"] == ["engineering"] and view["missed"] == ["cleaning"]
    assert view["departments"][0]["escalations"][0]["to_role"] == "supervisor"


def test_a_flag_read_back_from_its_escalation_keeps_its_department_day_and_level():
    raised = [Flag("cleaning", SUNDAY, level, role, at(17)) for level, role in ((1, "supervisor"),
                                                                                (2, "estate_manager"))]
    payloads = [{"level": f.level, "to_role": f.to_role, "obligation_id": f.obligation_id,
                 "raised_at": f.at.isoformat()} for f in raised]
    payloads.append({"level": 1, "to_role": "supervisor", "obligation_id": "complaint_completed:C-1",
                     "raised_at": at(17).isoformat()})
    assert escalations_of_day(payloads, SUNDAY) == [
        {"department": "cleaning", "level": 1, "to_role": "supervisor", "raised_at": at(17).isoformat()},
        {"department": "cleaning", "level": 2, "to_role": "estate_manager", "raised_at": at(17).isoformat()}]
    assert escalations_of_day(payloads, SUNDAY + timedelta(days=1)) == []
