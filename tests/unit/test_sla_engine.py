"""The SLA engine with a fake clock: whole days of a case's life run in milliseconds."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services.sla.domain.clocks import SlaCase, dump, fire_due, load, next_due, observe
from services.sla.domain.sla_policy import SlaPolicy, policy_from, validate_block
from services.sla.domain.working_time import WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # a Monday morning
DEFAULT = SlaPolicy()


class Life:
    """A case's life: events at given times, the ticker run at given times."""

    def __init__(self, case: dict, policy: SlaPolicy = DEFAULT):
        self.policy = policy
        self.sla = SlaCase("C-1", case)
        self.fired: list[tuple[str, dict]] = []
        self.keys: set[str] = set()
        self.event("CaseReceived", case, T0)

    def _keep(self, actions):
        for a in actions:
            assert a.key not in self.keys, f"fired twice: {a.key}"
            self.keys.add(a.key)
            self.fired.append((a.event_type, a.payload))

    def event(self, kind: str, payload: dict, at: datetime):
        self.tick(at)
        self.sla, actions = observe(self.sla, kind, payload, at, self.policy, cause=f"{kind}@{at}")
        self._keep(actions)
        return self

    def tick(self, now: datetime):
        self.sla, actions = fire_due(self.sla, now, self.policy)
        self._keep(actions)
        self.sla = load(dump(self.sla))  # as if stored and read back by a restarted worker
        return self

    def kinds(self) -> list[str]:
        return [k for k, _ in self.fired]

    def escalations(self, rule: str | None = None) -> list[tuple[int, str]]:
        return [(p["level"], p["to_role"]) for k, p in self.fired
                if k == "EscalationRaised" and rule in (None, p["rule"])]


REPAIR = {"type": "repair", "category": "plumbing", "repair": {"scope": "in_home"}}
COMPLAINT = {"type": "complaint", "category": "noise", "complaint": {"origin": "resident"}}


def test_engineering_told_within_5_minutes_is_met():
    life = Life(REPAIR).event("CaseDispatched", {"departments": ["engineering"]}, T0 + timedelta(minutes=2))
    assert life.kinds() == ["SlaClockStarted", "SlaMet"]
    assert life.fired[1][1]["elapsed_seconds"] == 120


def test_engineering_not_told_warns_at_80_percent_then_breaches_and_tells_the_supervisor():
    life = Life(REPAIR).tick(T0 + timedelta(minutes=4)).tick(T0 + timedelta(minutes=6))
    assert life.kinds() == ["SlaClockStarted", "SlaWarning", "SlaBreached", "EscalationRaised"]
    assert life.escalations() == [(1, "supervisor")]
    life.tick(T0 + timedelta(days=3))
    assert life.escalations() == [(1, "supervisor")]  # nothing fires twice


def test_a_help_request_is_replied_within_10_minutes():
    life = Life({"type": "help", "category": "other"}).event("CaseReplied", {}, T0 + timedelta(minutes=7))
    assert life.kinds() == ["SlaClockStarted", "SlaMet"]
    late = Life({"type": "help", "category": "other"}).event("CaseReplied", {}, T0 + timedelta(minutes=9))
    assert late.kinds() == ["SlaClockStarted", "SlaWarning", "SlaMet"]  # warned at 8 minutes


def test_a_serious_emergency_tells_the_estate_manager_at_once():
    life = Life({"type": "help", "category": "medical", "help": {"serious": True}})
    assert life.escalations() == [(1, "estate_manager")]
    assert Life({"type": "help", "category": "medical", "help": {"serious": False}}).escalations() == []


def test_a_complaint_open_after_24_hours_opens_a_file_card_then_climbs_the_chain():
    life = Life(COMPLAINT).tick(T0 + timedelta(hours=24, minutes=1))
    assert life.escalations() == [(1, "supervisor")]
    assert "投诉处理档案卡" in [p for k, p in life.fired if k == "EscalationRaised"][0]["reason"]
    life.tick(T0 + timedelta(hours=28, minutes=1))
    assert life.escalations() == [(1, "supervisor"), (2, "estate_manager")]
    life.event("WorkCompleted", {}, T0 + timedelta(hours=30)).tick(T0 + timedelta(days=5))
    chain = life.escalations("complaint_completed")
    assert chain == [(1, "supervisor"), (2, "estate_manager")]  # met: the chain stops
    assert life.escalations("return_visit_made") == [(1, "supervisor")]  # and the visit is now owed


def test_a_repeat_complaint_goes_to_the_general_managers_mailbox():
    life = Life(COMPLAINT).event("RepeatComplaintDetected", {"earlier_case_id": "C-0"}, T0)
    assert (2, "general_manager") in life.escalations()


def test_a_group_transferred_complaint_owes_the_group_register_progress():
    group = {**COMPLAINT, "complaint": {"origin": "group_center", "group_ref": "G-1"}}
    life = Life(group).event("ProgressNoted", {"for_group_register": True}, T0 + timedelta(hours=20))
    life.tick(T0 + timedelta(hours=43))
    assert [p["rule"] for k, p in life.fired if k == "SlaBreached"] == ["complaint_completed"]
    life.tick(T0 + timedelta(hours=44, minutes=1))
    assert sorted(p["rule"] for k, p in life.fired if k == "SlaBreached") == \
        ["complaint_completed", "group_progress_reported"]


def test_a_return_visit_is_due_within_one_working_day_of_completion():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=SH)
    life = Life(REPAIR).event("CaseDispatched", {"departments": ["engineering"]}, T0)
    life.event("WorkCompleted", {}, friday)
    started = [p for k, p in life.fired if k == "SlaClockStarted" and p["rule"] == "return_visit_made"][0]
    assert started["due_at"] == datetime(2026, 11, 30, 16, 0, tzinfo=SH)  # Friday 16:00 + 9 working hours


def test_a_clock_paused_while_waiting_on_the_resident_does_not_fire_and_moves_its_deadline():
    life = Life(COMPLAINT).event("WorkPaused", {"reason": "waiting_on_resident"}, T0 + timedelta(hours=10))
    life.tick(T0 + timedelta(hours=30))
    assert "SlaBreached" not in life.kinds() and "SlaWarning" not in life.kinds()
    assert [p["paused_at"] for k, p in life.fired if k == "SlaClockPaused"] == [T0 + timedelta(hours=10)]
    life.event("WorkResumed", {}, T0 + timedelta(hours=40))
    moved = [p for k, p in life.fired if k == "SlaClockResumed"][-1]
    assert moved["due_at"] == T0 + timedelta(hours=54)  # 24 h target + 30 h waiting
    assert moved["resumed_at"] == T0 + timedelta(hours=40)
    life.tick(T0 + timedelta(hours=53))
    assert "SlaBreached" not in life.kinds()
    life.tick(T0 + timedelta(hours=54))
    assert "SlaBreached" in life.kinds()


def test_waiting_on_parts_does_not_stop_the_clock():
    life = Life(COMPLAINT).event("WorkPaused", {"reason": "waiting_on_parts"}, T0 + timedelta(hours=1))
    assert "SlaBreached" in life.tick(T0 + timedelta(hours=24)).kinds()


def test_a_reopened_complaint_starts_a_new_clock_and_the_old_one_stays_met():
    life = Life(COMPLAINT).event("WorkCompleted", {}, T0 + timedelta(hours=5))
    life.event("CaseReopened", {"reason": "again"}, T0 + timedelta(hours=30))
    started = [p["obligation_id"] for k, p in life.fired if k == "SlaClockStarted" and p["rule"] == "complaint_completed"]
    assert started == ["C-1/complaint_completed/1", "C-1/complaint_completed/2"]
    life.tick(T0 + timedelta(hours=54, minutes=1))
    assert [p["obligation_id"] for k, p in life.fired if k == "SlaBreached" and p["rule"] == "complaint_completed"] \
        == ["C-1/complaint_completed/2"]


def test_a_transferred_case_keeps_its_met_response():
    life = Life(REPAIR).event("CaseDispatched", {"departments": ["engineering"]}, T0 + timedelta(minutes=1))
    life.event("CaseTransferred", {"to_department": "cleaning"}, T0 + timedelta(minutes=3))
    life.event("CaseDispatched", {"departments": ["cleaning"]}, T0 + timedelta(minutes=4)).tick(T0 + timedelta(hours=1))
    assert life.kinds().count("SlaMet") == 1 and "SlaBreached" not in life.kinds()


def test_a_cancelled_case_stops_its_clocks():
    life = Life(COMPLAINT).event("CaseCancelled", {"reason": "withdrawn"}, T0 + timedelta(hours=1))
    assert next_due(life.sla, DEFAULT) is None
    assert "SlaBreached" not in life.tick(T0 + timedelta(days=2)).kinds()


def test_a_back_dated_case_breaches_without_a_stale_warning():
    life = Life(COMPLAINT).tick(T0 + timedelta(hours=25))
    assert life.kinds() == ["SlaClockStarted", "SlaBreached", "EscalationRaised"]


def test_a_policy_change_applies_to_cases_received_after_it():
    stricter = policy_from(2, T0, {"rules": {"complaint_completed": {"target_minutes": 120}}}, "Asia/Shanghai")
    old_case, new_case = Life(COMPLAINT, DEFAULT), Life(COMPLAINT, stricter)
    for life in (old_case, new_case):
        life.tick(T0 + timedelta(hours=3))
    assert "SlaBreached" not in old_case.kinds() and "SlaBreached" in new_case.kinds()


def test_business_hour_policies_count_working_time_only():
    office = policy_from(3, T0, {"rules": {"complaint_completed": {"target_minutes": 540, "clock": "business_hours"}}},
                         "Asia/Shanghai")
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=SH)
    life = Life(COMPLAINT, office)
    life.sla = SlaCase("C-2", COMPLAINT)
    life.event("CaseReceived", COMPLAINT, friday_evening)
    due = [p["due_at"] for k, p in life.fired if k == "SlaClockStarted" and p["obligation_id"].startswith("C-2")]
    assert due == [datetime(2026, 11, 30, 17, 30, tzinfo=SH)]  # one full working day: Monday close


def test_a_bad_policy_block_names_its_fields():
    problems = dict(validate_block({"rules": {"complaint_completed": {"clock": "lunar", "target_minutes": -1},
                                              "made_up": {}}}))
    assert set(problems) == {"rules.complaint_completed.clock", "rules.complaint_completed.target_minutes",
                             "rules.made_up"}


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(SH)),
       st.integers(min_value=0, max_value=60 * 60 * 200))
def test_business_time_between_inverts_add(start, seconds):
    calendar = WorkingCalendar()
    end = calendar.add(start, timedelta(seconds=seconds))
    assert calendar.between(start, end) == timedelta(seconds=seconds)


def test_an_emergency_nobody_accepts_climbs_the_ladder_minute_by_minute_until_someone_does():
    life = Life({"type": "help", "category": "medical", "help": {"serious": False}})
    life.tick(T0 + timedelta(minutes=5, seconds=1))
    assert life.escalations("emergency_accepted") == [(1, "supervisor")]
    life.tick(T0 + timedelta(minutes=10, seconds=1))
    assert life.escalations("emergency_accepted") == [(1, "supervisor"), (2, "estate_manager")]
    life.event("CaseAccepted", {"department": "security"}, T0 + timedelta(minutes=12)).tick(T0 + timedelta(hours=2))
    assert life.escalations("emergency_accepted") == [(1, "supervisor"), (2, "estate_manager")]  # taken on: it stops
    quick = Life({"type": "help", "category": "disaster"}).event("CaseAccepted", {}, T0 + timedelta(minutes=3))
    assert quick.tick(T0 + timedelta(hours=1)).escalations("emergency_accepted") == []
    assert Life({"type": "help", "category": "other"}).tick(T0 + timedelta(hours=1)).escalations(
        "emergency_accepted") == []


OWN_RULES = {"custom_rules": [
    {"name": "public_repair_resolved", "case_types": ["repair"], "scope": "public_area", "starts_on": ["received"],
     "met_by": ["completed"], "target_minutes": 24 * 60, "warn_at": None},
    {"name": "consultation_answered", "case_types": ["consultation"], "starts_on": ["received"],
     "met_by": ["replied"], "target_minutes": 120, "clock": "business_hours",
     "escalations": [{"to_role": "estate_manager", "after_minutes": 0, "reason": "not answered in 2 working hours"}]},
]}


def test_an_estate_s_own_rules_run_beside_the_built_in_ones():
    policy = policy_from(2, T0 - timedelta(days=1), OWN_RULES, "Asia/Shanghai")
    public = Life({"type": "repair", "category": "plumbing", "repair": {"scope": "public_area"}}, policy)
    public.tick(T0 + timedelta(hours=23)).event("WorkCompleted", {}, T0 + timedelta(hours=23, minutes=30))
    met = [p for k, p in public.fired if k == "SlaMet" and p["rule"] == "public_repair_resolved"]
    assert len(met) == 1 and public.escalations("public_repair_resolved") == []
    in_home = Life(REPAIR, policy).tick(T0 + timedelta(days=3))
    assert not [p for k, p in in_home.fired if p.get("rule") == "public_repair_resolved"]  # another scope
    # received Monday 09:00; two working hours later is 11:00, and the estate manager is told
    asked = Life({"type": "consultation", "category": "fees"}, policy).tick(T0 + timedelta(hours=2, minutes=1))
    assert asked.escalations("consultation_answered") == [(2 - 1, "estate_manager")]
    started = next(p for k, p in asked.fired if k == "SlaClockStarted" and p["rule"] == "consultation_answered")
    assert started["due_at"] == T0 + timedelta(hours=2)


def test_an_estate_s_own_rule_is_checked_before_it_is_kept():
    assert validate_block(OWN_RULES) == []
    problems = validate_block({"custom_rules": [
        {"name": "help_replied", "case_types": ["help"], "starts_on": ["received"], "met_by": ["replied"],
         "target_minutes": 5},
        {"name": "odd", "case_types": [], "starts_on": ["teleported"], "met_by": ["completed"]}]})
    assert {field for field, _ in problems} == {"custom_rules.0.name", "custom_rules.1.case_types",
                                                 "custom_rules.1.starts_on", "custom_rules.1.target_minutes"}
