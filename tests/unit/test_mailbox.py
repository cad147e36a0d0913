"""The general manager's mailbox (总经理信箱, 002 §4.2.3) as stories: an escalation to the general
manager lands in it, the general manager acknowledges it with a remark, the SLA engine owes that
within a working day and tells the group when it slips, the read side and the month count it."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from estatedesk.contracts import encode
from estatedesk.lifecycle import allowed_commands, evolve, started
from services.analytics.domain.case_view import apply_all, mailbox_items, mailbox_state
from services.analytics.domain.month_report import figures
from services.intake.domain.commands import COMMANDS, Actor
from services.intake.domain.errors import IllegalTransition, InvalidCommand, NotPermitted
from services.sla.domain.clocks import SlaCase, dump, fire_due, load, observe
from services.sla.domain.sla_policy import SlaPolicy, policy_from

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # a Monday morning
MAILBOX_RULE = "mailbox_acknowledged"
GM, DESK = Actor("gm-he", "general_manager"), Actor("desk-zhao", "front_desk")
COMPLAINT = {"type": "complaint", "category": "noise", "complaint": {"origin": "resident"}}
ESCALATION_TO_GM = {"level": 2, "to_role": "general_manager", "reason": "second complaint on the same matter",
                    "raised_at": T0.isoformat(), "rule": "repeat_complaint", "obligation_id": None}


class Life:
    """The SLA engine over a case's life, stored and read back after every step."""

    def __init__(self, policy: SlaPolicy = SlaPolicy()):
        self.policy, self.sla, self.fired = policy, SlaCase("C-1", COMPLAINT), []
        self.event("CaseReceived", COMPLAINT, T0)

    def event(self, kind: str, payload: dict, at: datetime) -> "Life":
        self.tick(at)
        self.sla, actions = observe(self.sla, kind, payload, at, self.policy, cause=f"{kind}@{at}")
        self.fired += actions
        return self

    def tick(self, now: datetime) -> "Life":
        self.sla, actions = fire_due(self.sla, now, self.policy)
        self.fired += actions
        self.sla = load(dump(self.sla))
        return self

    def of_mailbox(self) -> list[tuple[str, str | None]]:
        return [(a.event_type, a.payload.get("to_role")) for a in self.fired
                if a.payload.get("rule") == MAILBOX_RULE]


def test_a_repeat_complaint_starts_the_mailbox_clock_and_the_acknowledgement_meets_it():
    life = Life().event("RepeatComplaintDetected", {"earlier_case_id": "C-0"}, T0)
    assert life.of_mailbox() == [("SlaClockStarted", None)]
    [start] = [a for a in life.fired if a.event_type == "SlaClockStarted" and a.payload["rule"] == MAILBOX_RULE]
    assert start.payload["due_at"] == T0 + timedelta(days=1)  # one working day of the default calendar
    life.event("MailboxItemAcknowledged", {"item_ids": ["x"], "remark": "read"}, T0 + timedelta(hours=3))
    life.tick(T0 + timedelta(hours=40))  # past the mailbox deadline, before the complaint's chain reaches the manager
    assert life.of_mailbox() == [("SlaClockStarted", None), ("SlaMet", None)]


def test_an_unacknowledged_item_tells_the_group_once_and_a_late_acknowledgement_still_settles_it():
    life = Life().event("RepeatComplaintDetected", {"earlier_case_id": "C-0"}, T0)
    life.tick(T0 + timedelta(hours=23)).tick(T0 + timedelta(days=1, minutes=1)).tick(T0 + timedelta(days=3))
    assert life.of_mailbox() == [("SlaClockStarted", None), ("SlaBreached", None),
                                 ("EscalationRaised", "group_service_center")]
    life.event("MailboxItemAcknowledged", {"item_ids": ["x"], "remark": "late, sorry"}, T0 + timedelta(days=4))
    assert life.of_mailbox()[-1] == ("SlaMet", None)


def test_any_escalation_a_policy_sends_to_the_general_manager_lands_in_the_mailbox_once_per_round():
    life = Life()  # the complaint never completes: its chain reaches the general manager a day after the deadline
    life.tick(T0 + timedelta(hours=48, minutes=1))
    assert ("EscalationRaised", "general_manager") in [(a.event_type, a.payload.get("to_role")) for a in life.fired]
    assert life.of_mailbox() == [("SlaClockStarted", None)]
    life.event("RepeatComplaintDetected", {"earlier_case_id": "C-0"}, T0 + timedelta(hours=49))
    assert life.of_mailbox() == [("SlaClockStarted", None)]  # the running clock covers the second item
    life.event("MailboxItemAcknowledged", {"item_ids": ["a", "b"], "remark": "both read"}, T0 + timedelta(hours=50))
    life.event("RepeatComplaintDetected", {"earlier_case_id": "C-0"}, T0 + timedelta(hours=51))
    assert [k for k, _ in life.of_mailbox()] == ["SlaClockStarted", "SlaMet", "SlaClockStarted"]


def test_an_estate_tunes_the_mailbox_clock_like_any_other_rule():
    block = {"rules": {"mailbox_acknowledged": {"target_minutes": 120, "clock": "24x7",
                                                "escalations": [{"to_role": "group_service_center"}]}}}
    life = Life(policy_from(2, T0, block, "Asia/Shanghai"))
    life.event("RepeatComplaintDetected", {"earlier_case_id": "C-0"}, T0).tick(T0 + timedelta(hours=2, minutes=1))
    assert life.of_mailbox() == [("SlaClockStarted", None), ("SlaBreached", None),
                                 ("EscalationRaised", "group_service_center")]


def in_mailbox():
    state = started("C-1", "E001", {"type": "complaint", "category": "noise"})
    return evolve(state, "EscalationRaised", ESCALATION_TO_GM, event_id="E-1", own_stream=False)


def test_the_general_manager_acknowledges_every_open_item_with_a_remark():
    state = evolve(in_mailbox(), "EscalationRaised", {**ESCALATION_TO_GM, "level": 3}, event_id="E-2",
                   own_stream=False)
    assert state.mailbox_open == ("E-1", "E-2") and "acknowledge-mailbox" in allowed_commands(state, "general_manager")
    [ack] = COMMANDS["acknowledge-mailbox"](state, {"remark": "call the resident today"}, GM, T0)
    assert (ack.item_ids, ack.remark, ack.actor, ack.actor_role) == (["E-1", "E-2"], "call the resident today",
                                                                      "gm-he", "general_manager")
    after = evolve(state, "MailboxItemAcknowledged", encode(ack))
    assert after.mailbox_open == () and "acknowledge-mailbox" not in allowed_commands(after, "general_manager")


def test_escalations_to_others_never_reach_the_mailbox():
    state = started("C-1", "E001", {"type": "complaint", "category": "noise"})
    state = evolve(state, "EscalationRaised", {**ESCALATION_TO_GM, "to_role": "supervisor"}, event_id="E-1",
                   own_stream=False)
    assert state.mailbox_open == ()


@pytest.mark.parametrize("state, actor, data, refused", [
    (in_mailbox(), DESK, {"remark": "read"}, NotPermitted),
    (started("C-1", "E001", {"type": "complaint"}), GM, {"remark": "read"}, IllegalTransition),
    (in_mailbox(), GM, {"remark": "   "}, InvalidCommand),
])
def test_only_the_general_manager_acknowledges_only_what_is_open_and_says_something(state, actor, data, refused):
    with pytest.raises(refused):
        COMMANDS["acknowledge-mailbox"](state, data, actor, T0)


def _event(n: int, kind: str, payload: dict, producer: str = "intake", at: str = "2026-11-23T01:00:00Z") -> dict:
    return {"event_id": f"00000000-0000-0000-0000-{n:012d}", "event_type": kind, "case_id": "C-1",
            "estate_id": "E001", "occurred_at": at, "producer": producer,
            "stream_version": n if producer == "intake" else None, "payload": payload}


RECEIVED = _event(1, "CaseReceived", {
    "type": "complaint", "category": "noise", "channel": "phone", "title": "Noise again", "location": {"area": "B"},
    "reporter": {"household_id": "H1"}, "priority": "normal", "received_at": "2026-11-23T01:00:00Z",
    "complaint": {"origin": "resident", "related_case_id": "C-0"}})


def test_the_view_shows_each_item_until_acknowledged_and_the_month_counts_them():
    raised = _event(2, "EscalationRaised", ESCALATION_TO_GM, "sla")
    view = apply_all(None, [RECEIVED, raised])
    assert mailbox_state(view) == "open"
    [item] = mailbox_items(view, open_only=True)
    assert (item["item_id"], item["case_id"], item["reason"], item["acknowledged_at"]) == (
        raised["event_id"], "C-1", "second complaint on the same matter", None)
    ack = _event(3, "MailboxItemAcknowledged", {"item_ids": [raised["event_id"]], "remark": "read it",
                                                "actor": "gm-he", "actor_role": "general_manager"},
                 at="2026-11-23T05:00:00Z")
    view = apply_all(view, [ack])
    assert mailbox_state(view) == "acknowledged" and mailbox_items(view, open_only=True) == []
    [item] = mailbox_items(view, open_only=False)
    assert (item["acknowledged_at"], item["acknowledged_by"], item["remark"]) == (
        "2026-11-23T05:00:00Z", "gm-he", "read it")
    assert figures([view])["mailbox_items"] == {"raised": 1, "acknowledged": 1}
    assert mailbox_state(apply_all(None, [RECEIVED])) is None
    assert figures([apply_all(None, [RECEIVED])])["mailbox_items"] == {"raised": 0, "acknowledged": 0}


def test_the_due_time_follows_the_working_calendar():
    friday_evening = datetime(2026, 11, 27, 17, 0, tzinfo=SH)
    sla = SlaCase("C-1", COMPLAINT)
    sla, _ = observe(sla, "CaseReceived", COMPLAINT, friday_evening, SlaPolicy(), cause="r")
    sla, actions = observe(sla, "RepeatComplaintDetected", {}, friday_evening, SlaPolicy(), cause="x")
    [start] = [a for a in actions if a.payload.get("rule") == MAILBOX_RULE]
    assert start.payload["due_at"] > friday_evening + timedelta(days=2)  # the weekend does not count
