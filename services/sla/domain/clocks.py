"""The SLA engine: one clock per obligation of a case, driven by the case's events and by time.

Pure: `observe` applies one event, `fire_due` what time has brought, both return the new
state and the actions to publish. Every action has a deterministic key, and the state
remembers what has fired, so a redelivery or a restart can never fire anything twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from .sla_policy import CLOSING, EMERGENCIES, ClockRule, SlaPolicy


@dataclass(frozen=True)
class Clock:
    obligation_id: str
    rule: str
    started_at: datetime
    state: str = "open"  # open | met | breached | stopped
    paused_since: datetime | None = None
    paused: timedelta = timedelta(0)
    fired: frozenset[str] = frozenset()
    met_at: datetime | None = None
    deadline: datetime | None = None  # set by the starting event (a rectification deadline), not by the rule


@dataclass(frozen=True)
class Action:
    key: str  # deterministic: the event id derives from it
    event_type: str
    payload: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class SlaCase:
    case_id: str
    case: dict[str, Any]  # the CaseReceived payload
    clocks: tuple[Clock, ...] = ()
    instances: dict[str, int] = field(default_factory=dict)
    departments: tuple[str, ...] = ()


def due_at(clock: Clock, rule: ClockRule, policy: SlaPolicy, share: float = 1.0) -> datetime:
    if clock.deadline is not None:
        return clock.started_at + (clock.deadline - clock.started_at) * share + clock.paused
    if rule.clock == "business_hours":
        target = policy.calendar.working_day * rule.working_days if rule.working_days else rule.target
        return policy.calendar.add(clock.started_at, target * share + clock.paused)
    return clock.started_at + rule.target * share + clock.paused


def _start(sla: SlaCase, rule: ClockRule, at: datetime, policy: SlaPolicy,
           payload: dict | None = None) -> tuple[SlaCase, list[Action]]:
    n = sla.instances.get(rule.rule, 0) + 1
    deadline = (payload or {}).get(rule.deadline_from) if rule.deadline_from else None
    clock = Clock(f"{sla.case_id}/{rule.rule}/{n}", rule.rule, at,
                  deadline=_moment(deadline) if deadline is not None else None)
    sla = replace(sla, clocks=(*sla.clocks, clock), instances={**sla.instances, rule.rule: n})
    return sla, [Action(f"{clock.obligation_id}/started", "SlaClockStarted",
                        {"obligation_id": clock.obligation_id, "rule": rule.rule, "started_at": at,
                         "due_at": due_at(clock, rule, policy), "policy_version": policy.version}, at)]


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _carries(conditions: tuple[tuple[str, str, frozenset], ...], event_type: str, payload: dict) -> bool:
    return all(payload.get(name) in values for kind, name, values in conditions if kind == event_type)


def _meets(rule: ClockRule, event_type: str, payload: dict) -> bool:
    if event_type not in rule.met_by or not _carries(rule.met_if, event_type, payload):
        return False
    return rule.met_by_department is None or rule.met_by_department in payload.get("departments", [])


def observe(sla: SlaCase, event_type: str, payload: dict, at: datetime, policy: SlaPolicy,
            cause: str) -> tuple[SlaCase, list[Action]]:
    """Apply one event of the case (at the time it happened)."""
    actions: list[Action] = []
    clocks: list[Clock] = []
    for clock in sla.clocks:
        rule = policy.rule(clock.rule)
        if clock.state in ("open", "breached") and _meets(rule, event_type, payload):
            clock = replace(clock, state="met", met_at=at, paused_since=None)
            actions.append(Action(f"{clock.obligation_id}/met", "SlaMet", {
                "obligation_id": clock.obligation_id, "rule": clock.rule, "due_at": due_at(clock, rule, policy),
                "met_at": at, "elapsed_seconds": _elapsed(clock, rule, policy, at).total_seconds()}, at))
        elif clock.state in ("open", "breached") and event_type in CLOSING:
            clock = replace(clock, state="stopped")
        elif clock.state in ("open", "breached") and rule.pausable and event_type == "WorkPaused" \
                and payload.get("reason") == "waiting_on_resident" and clock.paused_since is None:
            clock = replace(clock, paused_since=at)
            actions.append(Action(f"{clock.obligation_id}/paused/{at.isoformat()}", "SlaClockPaused",
                                  {"obligation_id": clock.obligation_id, "rule": clock.rule, "paused_at": at}, at))
        elif clock.paused_since is not None and event_type == "WorkResumed":
            clock = _resumed(clock, rule, policy, at)
            actions.append(Action(f"{clock.obligation_id}/resumed/{int(clock.paused.total_seconds())}",
                                  "SlaClockResumed",
                                  {"obligation_id": clock.obligation_id, "rule": clock.rule, "resumed_at": at,
                                   "due_at": due_at(clock, rule, policy)}, at))
        clocks.append(clock)
    sla = replace(sla, clocks=tuple(clocks))
    if event_type == "CaseDispatched":
        sla = replace(sla, departments=tuple(payload.get("departments", ())))
    for rule in policy.rules:
        if event_type in rule.starts_on and rule.applies_to(sla.case) and not _running(sla, rule.rule) \
                and _carries(rule.starts_if, event_type, payload):
            sla, started = _start(sla, rule, at, policy, payload)
            actions += started
    actions += _instant(sla, event_type, at, policy, cause)
    return _after_escalations(sla, actions, policy)


def _after_escalations(sla: SlaCase, actions: list[Action], policy: SlaPolicy) -> tuple[SlaCase, list[Action]]:
    """`actions` and the clocks their escalations start. This engine never reads back its own
    events, so a rule started by an escalation (the general manager's mailbox) starts here."""
    out = list(actions)
    for action in actions:
        if action.event_type != "EscalationRaised":
            continue
        for rule in policy.rules:
            if rule.started_by_escalation_to == action.payload["to_role"] and rule.applies_to(sla.case) \
                    and not _running(sla, rule.rule):
                sla, started = _start(sla, rule, action.at, policy)
                out += started
    return sla, out


def _running(sla: SlaCase, rule: str) -> bool:
    return any(c.rule == rule and c.state in ("open", "breached") for c in sla.clocks)


def _resumed(clock: Clock, rule: ClockRule, policy: SlaPolicy, at: datetime) -> Clock:
    waited = policy.calendar.between(clock.paused_since, at) if rule.clock == "business_hours" \
        else at - clock.paused_since
    return replace(clock, paused_since=None, paused=clock.paused + waited)


def _elapsed(clock: Clock, rule: ClockRule, policy: SlaPolicy, at: datetime) -> timedelta:
    total = policy.calendar.between(clock.started_at, at) if rule.clock == "business_hours" else at - clock.started_at
    return total - clock.paused


def _instant(sla: SlaCase, event_type: str, at: datetime, policy: SlaPolicy, cause: str) -> list[Action]:
    help_block = sla.case.get("help") or {}
    serious = sla.case["type"] == "help" and sla.case.get("category") in EMERGENCIES and help_block.get("serious")
    return [Action(f"{sla.case_id}/{i.name}/{cause}", "EscalationRaised",
                   {"level": i.level, "to_role": i.to_role, "reason": i.reason, "raised_at": at,
                    "obligation_id": None, "rule": i.name}, at)
            for i in policy.instant if i.on == event_type and (serious or not i.serious_emergency_only)]


def _pending(clock: Clock, rule: ClockRule, policy: SlaPolicy) -> list[tuple[datetime, str, Action]]:
    """Every action the clock still owes, with its due time."""
    if clock.state not in ("open", "breached") or clock.paused_since is not None:
        return []
    due = due_at(clock, rule, policy)
    base = {"obligation_id": clock.obligation_id, "rule": clock.rule, "due_at": due}
    owed = []
    if rule.warn_at and "warning" not in clock.fired and "breach" not in clock.fired:
        warn = due_at(clock, rule, policy, rule.warn_at)
        owed.append((warn, "warning", Action(f"{clock.obligation_id}/warning", "SlaWarning",
                                             {**base, "warned_at": warn}, warn)))
    if "breach" not in clock.fired:
        owed.append((due, "breach", Action(f"{clock.obligation_id}/breached", "SlaBreached",
                                           {**base, "breached_at": due}, due)))
    for esc in rule.escalations:
        key = f"escalation/{esc.level}"
        if key not in clock.fired:
            when = due + esc.after
            owed.append((when, key, Action(f"{clock.obligation_id}/{key}", "EscalationRaised", {
                "obligation_id": clock.obligation_id, "rule": clock.rule, "level": esc.level,
                "to_role": esc.to_role, "reason": esc.reason or f"{clock.rule} missed", "raised_at": when}, when)))
    return owed


def fire_due(sla: SlaCase, now: datetime, policy: SlaPolicy) -> tuple[SlaCase, list[Action]]:
    """Fire what has come due by `now`; a warning whose breach is due too is skipped."""
    actions, clocks = [], []
    for clock in sla.clocks:
        rule = policy.rule(clock.rule)
        owed = sorted(_pending(clock, rule, policy), key=lambda o: o[0])
        due_now = [o for o in owed if o[0] <= now]
        breach_due = any(kind == "breach" for _, kind, _ in due_now)
        for _, kind, action in due_now:
            clock = replace(clock, fired=clock.fired | {kind})
            if kind == "warning" and breach_due:
                continue
            actions.append(action)
            if kind == "breach":
                clock = replace(clock, state="breached")
        clocks.append(clock)
    return _after_escalations(replace(sla, clocks=tuple(clocks)), actions, policy)


def next_due(sla: SlaCase, policy: SlaPolicy) -> datetime | None:
    """When this case next needs the ticker (None: nothing pending)."""
    times = [when for c in sla.clocks for when, _, _ in _pending(c, policy.rule(c.rule), policy)]
    return min(times) if times else None


def dump(sla: SlaCase) -> dict[str, Any]:
    """JSON-ready form of the state, for the timer store."""
    return {"case_id": sla.case_id, "case": sla.case, "instances": sla.instances, "departments": list(sla.departments),
            "clocks": [{"obligation_id": c.obligation_id, "rule": c.rule, "started_at": c.started_at.isoformat(),
                        "state": c.state, "paused_since": c.paused_since.isoformat() if c.paused_since else None,
                        "paused_s": c.paused.total_seconds(), "fired": sorted(c.fired),
                        "met_at": c.met_at.isoformat() if c.met_at else None,
                        "deadline": c.deadline.isoformat() if c.deadline else None} for c in sla.clocks]}


def load(data: dict[str, Any]) -> SlaCase:
    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return SlaCase(data["case_id"], data["case"], tuple(
        Clock(c["obligation_id"], c["rule"], datetime.fromisoformat(c["started_at"]), c["state"],
              when(c["paused_since"]), timedelta(seconds=c["paused_s"]), frozenset(c["fired"]), when(c["met_at"]),
              when(c.get("deadline")))
        for c in data["clocks"]), dict(data["instances"]), tuple(data["departments"]))
