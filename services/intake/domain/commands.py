"""One decision per command of SPEC §5: given the case and the command, the events to record.

Each function either returns the events or raises — IllegalTransition (wrong state, with
the commands that are allowed), InvalidCommand (field problems) or NotPermitted (role) —
and a refused command records nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from estatedesk.contracts import Payload
from estatedesk.contracts.case_events import (
    CaseAccepted, CaseArchived, CaseCancelled, CaseMerged, CaseRejected, CaseReferredToSupervisor, CaseReopened,
    CaseReplied, CaseTransferred, ChargeableWorkCompleted, ChargeVoided, GroupComplaintResultReported,
    InspectionRecorded, MailboxItemAcknowledged, ViolationPenaltySignedOff, ViolationStepTaken,
    ProgressNoted, ReturnVisitAttempted, ReturnVisitClosed, ReturnVisitRecorded, SupervisorReviewed, ViolationPenaltyRecorded, WorkCompleted, WorkPaused,
    WorkResumed, WorkStarted,
)

from estatedesk.lifecycle import DESK_TYPES, NEEDS_FULL_CLOSURE, CaseState
from .errors import IllegalTransition, InvalidCommand, NotPermitted
from .fees import FeeSchedule, price_lines
from .violations import step_taken
from estatedesk.lifecycle.guards import DEPARTMENT_BOUND, ROLES, allowed_commands, may, may_give
from services.dispatch.domain.rules import DEPARTMENTS


@dataclass(frozen=True)
class Actor:
    """Who gives a command: the user, their role, the departments whose staff lists of the
    case's estate name them, and for a resident the household their token names."""

    user: str
    role: str
    departments: frozenset[str] = frozenset()
    household: str | None = None


def _check(command: str, state: CaseState, actor: Actor) -> dict[str, str]:
    if not may(command, state):
        raise IllegalTransition(command, state.status, allowed_commands(state))
    if actor.role not in ROLES[command]:
        raise NotPermitted(f"a {actor.role} may not {command} a case")
    if not may_give(command, state, actor.role, actor.departments):
        raise NotPermitted(f"department staff act only on cases routed to their department; this one is routed to"
                           f" {', '.join(state.departments) or 'no department'}")
    return {"actor": actor.user, "actor_role": actor.role}


def _routed_department(state: CaseState, data: dict, actor: Actor) -> str:
    """The department a command speaks for: the one named, else the first the case was routed
    to (for department staff, the first of theirs). It must be one the case was routed to, and
    for department staff one of their own."""
    mine = [d for d in state.departments if actor.role not in DEPARTMENT_BOUND or d in actor.departments]
    department = data.get("department") or (mine[0] if mine else "")
    if department not in state.departments:
        raise InvalidCommand([("department", f"must be one the case was routed to: {', '.join(state.departments)}")])
    if department not in mine:
        raise InvalidCommand([("department", f"must be one of your departments: {', '.join(mine)}")])
    return department


def _required(data: dict, *names: str) -> None:
    missing = [(n, "is required") for n in names if not str(data.get(n) or "").strip()]
    if missing:
        raise InvalidCommand(missing)


def reply(state: CaseState, data: dict, actor: Actor, now: datetime) -> list[Payload]:
    """Answer at the desk; what the desk cannot answer is referred to the supervisor (003 §4.3)."""
    by = _check("reply", state, actor)
    if data.get("refer_to_supervisor"):
        _required(data, "reason")
        return [CaseReferredToSupervisor(reason=data["reason"], **by)]
    _required(data, "answer")
    return [CaseReplied(answer=data["answer"], handling=data.get("handling", ""), result=data.get("result", ""), **by)]


def accept(state, data, actor, now):
    by = _check("accept", state, actor)
    return [CaseAccepted(department=_routed_department(state, data, actor), **by)]


def start(state, data, actor, now):
    return [WorkStarted(**_check("start", state, actor))]


def pause(state, data, actor, now):
    by = _check("pause", state, actor)
    if data.get("reason") not in ("waiting_on_resident", "waiting_on_parts", "other"):
        raise InvalidCommand([("reason", "must be waiting_on_resident, waiting_on_parts or other")])
    return [WorkPaused(reason=data["reason"], note=data.get("note", ""), **by)]


def resume(state, data, actor, now):
    return [WorkResumed(**_check("resume", state, actor))]


def transfer(state, data, actor, now):
    """Hand the case from one of its departments to another real department it is not with."""
    by = _check("transfer", state, actor)
    _required(data, "to_department", "reason")
    department = _routed_department(state, data, actor)
    to = data["to_department"]
    if to not in DEPARTMENTS:
        raise InvalidCommand([("to_department", f"must be one of {', '.join(DEPARTMENTS)}")])
    if to in state.departments:
        raise InvalidCommand([("to_department", f"the case is with {to} already; name another department")])
    return [CaseTransferred(department=department, to_department=to, reason=data["reason"], **by)]


def reject(state, data, actor, now):
    by = _check("reject", state, actor)
    _required(data, "reason")
    return [CaseRejected(department=_routed_department(state, data, actor), reason=data["reason"], **by)]


def complete(state: CaseState, data: dict, actor: Actor, now: datetime, *,
             schedule: FeeSchedule = FeeSchedule()) -> list[Payload]:
    """Finish the work; paid work is billed once per completion, priced by `schedule`, the
    estate's fee schedule in force now."""
    by = _check("complete", state, actor)
    _required(data, "result")
    if data.get("charge_lines") and not state.is_paid_work:
        raise InvalidCommand([("charge_lines", "only out-of-warranty repairs and paid help are charged")])
    lines = price_lines(data.get("charge_lines") or [], schedule, actor.role)
    number = state.completions + 1
    events: list[Payload] = [WorkCompleted(result=data["result"], completion_number=number, charge_lines=lines, **by)]
    if lines:
        events.append(ChargeableWorkCompleted(
            completion_number=number, charge_lines=lines, total_fen=sum(line.total_fen for line in lines),
            reason="out_of_warranty_repair" if state.type == "repair" else "paid_help",
            supersedes_event_id=state.last_charge_event_id, completed_at=now, household_id=state.household_id,
            location_id=state.location_id, fee_schedule_version=schedule.version or None))
    if data.get("penalty_fen") is not None:
        events.append(_penalty(state, data, actor, by))
    return events


def _penalty(state: CaseState, data: dict, actor: Actor, by: dict) -> ViolationPenaltyRecorded:
    if state.type != "violation":
        raise InvalidCommand([("penalty_fen", "penalties apply to violations only")])
    if actor.role not in ("estate_manager", "supervisor"):
        raise NotPermitted("penalties are imposed only by the estate manager or a supervisor (000 §1)")
    if not isinstance(data["penalty_fen"], int) or data["penalty_fen"] <= 0:
        raise InvalidCommand([("penalty_fen", "must be a positive whole number of fen")])
    return ViolationPenaltyRecorded(amount_fen=data["penalty_fen"], note=data.get("penalty_note", ""), **by)


def inspect(state, data, actor, now):
    """Acceptance inspection by the caller, as the owner or a property assistant (002 §4.4.4);
    a resident inspects only their own household's case, as its owner. A failed inspection
    sends the case back to work."""
    by = _check("inspect", state, actor)
    if not isinstance(data.get("passed"), bool):
        raise InvalidCommand([("passed", "must be true or false")])
    if data.get("inspector_role") not in ("owner", "property_assistant"):
        raise InvalidCommand([("inspector_role", "must be owner or property_assistant (002 §4.4.4)")])
    if actor.role == "resident":
        if actor.household is None or actor.household != state.household_id:
            raise NotPermitted("a resident inspects only their own household's case")
        if data["inspector_role"] != "owner":
            raise InvalidCommand([("inspector_role", "a resident inspects as the owner")])
    inspection = InspectionRecorded(passed=data["passed"], inspector_role=data["inspector_role"],
                                    notes=data.get("notes", ""), **by)
    if data["passed"]:
        return [inspection]
    return [inspection, CaseReopened(reason="failed acceptance inspection", **by)]


def review(state, data, actor, now):
    return [SupervisorReviewed(notes=data.get("notes", ""), **_check("review", state, actor))]


def return_visit(state, data, actor, now):
    """A visit that reached the resident records satisfaction (a door visit its duration);
    one that did not is an attempt, and another is owed."""
    by = _check("return-visit", state, actor)
    errors = []
    outcome = data.get("outcome", "reached")
    if data.get("method") not in ("phone", "door"):
        errors.append(("method", "must be phone or door"))
    if outcome not in ("reached", "unreachable"):
        errors.append(("outcome", "must be reached or unreachable"))
    elif outcome == "reached" and data.get("satisfaction") not in ("satisfied", "neutral", "dissatisfied"):
        errors.append(("satisfaction", "must be satisfied, neutral or dissatisfied"))
    elif outcome == "unreachable" and data.get("satisfaction") is not None:
        errors.append(("satisfaction", "an unreachable resident gave none"))
    duration = data.get("duration_minutes")
    if duration is not None and (data.get("method") != "door" or outcome != "reached"):
        errors.append(("duration_minutes", "only a door visit that reached the resident has a duration"))
    elif duration is not None and (not isinstance(duration, int) or isinstance(duration, bool) or duration <= 0):
        errors.append(("duration_minutes", "must be a positive whole number of minutes"))
    if errors:
        raise InvalidCommand(errors)
    if outcome == "unreachable":
        return [ReturnVisitAttempted(method=data["method"], attempt=state.unreachable_attempts + 1,
                                     comments=data.get("comments", ""), **by)]
    visit = ReturnVisitRecorded(method=data["method"], satisfaction=data["satisfaction"],
                                comments=data.get("comments", ""), duration_minutes=duration, **by)
    if data["satisfaction"] != "dissatisfied":
        return [visit]
    return [visit, CaseReopened(reason="resident dissatisfied at the return visit", **by)]


def close_visit(state, data, actor, now):
    """The resident could not be reached however often tried: a supervisor settles the visit
    with a remark, so the case is never stuck un-archivable."""
    by = _check("close-visit", state, actor)
    _required(data, "remark")
    return [ReturnVisitClosed(remark=data["remark"], attempts=state.unreachable_attempts, **by)]


def reopen(state, data, actor, now):
    by = _check("reopen", state, actor)
    _required(data, "reason")
    return [CaseReopened(reason=data["reason"], **by)]


def cancel(state, data, actor, now):
    by = _check("cancel", state, actor)
    _required(data, "reason")
    return [CaseCancelled(reason=data["reason"], **by), *_group_result(state, "cancelled", data["reason"], now)]


def merge(state, data, actor, now, *, target: CaseState | None = None):
    """Close the case as a duplicate of `target`, the case named by `into_case_id` as the
    caller may see it (None: no such case): an open case of the same estate, not itself."""
    by = _check("merge", state, actor)
    _required(data, "into_case_id")
    if data["into_case_id"] == state.case_id:
        raise InvalidCommand([("into_case_id", "a case cannot be merged into itself")])
    if target is None or target.case_id != data["into_case_id"] or target.estate_id != state.estate_id:
        raise InvalidCommand([("into_case_id", f"no case {data['into_case_id']} in estate {state.estate_id}")])
    if target.is_closed:
        raise InvalidCommand([("into_case_id", f"case {target.case_id} is {target.status}; merge into an open case")])
    return [CaseMerged(into_case_id=target.case_id, **by),
            *_group_result(state, "merged", "", now, merged_into_case_id=target.case_id)]


def archive(state, data, actor, now):
    return [CaseArchived(**_check("archive", state, actor)),
            *_group_result(state, "archived", state.result or "", now, satisfaction=state.satisfaction)]


def progress(state, data, actor, now):
    by = _check("progress", state, actor)
    _required(data, "note")
    return [ProgressNoted(note=data["note"], for_group_register=state.on_group_register,
                          group_ref=state.group_ref, **by)]


def _group_result(state: CaseState, outcome: str, result: str, now: datetime, **more) -> list[Payload]:
    """The result owed to the group register when one of its complaints closes, however it closes."""
    if not state.on_group_register:
        return []
    return [GroupComplaintResultReported(group_ref=state.group_ref, outcome=outcome, result=result, closed_at=now,
                                         **more)]


def acknowledge_mailbox(state, data, actor, now):
    """The general manager has read what reached the mailbox on this case: every item still
    open is settled at once, with one remark."""
    if not state.mailbox_open:
        raise IllegalTransition("acknowledge-mailbox", state.status, allowed_commands(state),
                                "nothing of this case is waiting in the general manager's mailbox")
    by = _check("acknowledge-mailbox", state, actor)
    _required(data, "remark")
    return [MailboxItemAcknowledged(item_ids=list(state.mailbox_open), remark=data["remark"], **by)]


def violation_step(state, data, actor, now):
    """One step of the case's violation ladder, who took it and when; a written notice or a
    reminder letter also sets the deadline to rectify."""
    by = _check("violation-step", state, actor)
    ladder, rectify_by = step_taken(state.category, data.get("step"), data.get("rectify_within_days"), actor.role, now)
    return [ViolationStepTaken(ladder=ladder, step=data["step"], note=data.get("note", ""), rectify_by=rectify_by,
                               **by)]


def sign_off_penalty(state, data, actor, now):
    """The general manager signs off a major violation's penalty, which only then is in force."""
    return [ViolationPenaltySignedOff(remark=data.get("remark", ""), **_check("sign-off-penalty", state, actor))]


# Commands about another case too, and the field naming it: the handler loads that case as
# the caller may see it and passes it as `target`.
REFERS_TO: dict[str, str] = {"merge": "into_case_id"}
PRICED: frozenset[str] = frozenset({"complete"})
"""Commands the handler passes the estate's fee schedule in force, as `schedule`."""

COMMANDS: dict[str, Callable[..., list[Payload]]] = {
    "reply": reply, "accept": accept, "start": start, "pause": pause, "resume": resume, "transfer": transfer,
    "reject": reject, "complete": complete, "inspect": inspect, "review": review, "return-visit": return_visit,
    "reopen": reopen, "cancel": cancel, "merge": merge, "archive": archive, "progress": progress,
    "close-visit": close_visit, "acknowledge-mailbox": acknowledge_mailbox, "violation-step": violation_step,
    "sign-off-penalty": sign_off_penalty,
}


def decide(name: str, state: CaseState, data: dict, actor: Actor, now: datetime, **context: Any) -> list[Payload]:
    """The events of one command. Whatever reopens or cancels billed work also voids its
    bill, whichever command did it (a reopen, a failed inspection, a dissatisfied resident)."""
    events = COMMANDS[name](state, data, actor, now, **context)
    ended = next((e for e in events if isinstance(e, (CaseReopened, CaseCancelled))), None)
    if ended is not None and state.last_charge_event_id:
        events.append(ChargeVoided(voided_event_id=state.last_charge_event_id, voided_at=now,
                                   reason="cancelled" if isinstance(ended, CaseCancelled) else "reopened"))
    return events


__all__ = ["Actor", "COMMANDS", "DESK_TYPES", "NEEDS_FULL_CLOSURE", "PRICED", "REFERS_TO", "decide"]
