"""Which command the state machine of SPEC §3 allows in which state, and who may give it."""
from __future__ import annotations

from typing import Callable, Iterable

from .state import DESK_TYPES, MAILBOX_ROLE, NEEDS_FULL_CLOSURE, CaseState

EMERGENCIES = frozenset({"medical", "security_incident", "disaster"})
WORKING = frozenset({"accepted", "in_progress"})
FINISHED = frozenset({"completed", "inspected", "reviewed", "visited", "replied"})
UNREACHABLE_BEFORE_CLOSING = 3  # unreachable attempts after which a supervisor may close the visit


def _desk_case(s: CaseState) -> bool:
    return s.type in DESK_TYPES and not (s.type == "help" and s.category in EMERGENCIES)


def _routed(s: CaseState) -> bool:
    return bool(s.departments)


def _may_archive(s: CaseState) -> bool:
    if s.type in NEEDS_FULL_CLOSURE:  # 002 §4.4.4: inspection, review and a return visit first
        return s.status == "visited" and s.inspection_passed and s.reviewed and s.visited
    return s.status in ("replied", "completed", "visited")


def _may_visit(s: CaseState) -> bool:
    if s.type == "violation":  # no satisfaction visit to the resident who broke the rules (000 §1)
        return False
    if s.type in NEEDS_FULL_CLOSURE:
        return s.status == "reviewed"
    return s.status in ("completed", "replied")


_GUARDS: dict[str, Callable[[CaseState], bool]] = {
    "reply": lambda s: _desk_case(s) and s.status in ("received", "referred", "dispatched"),
    "accept": lambda s: s.status == "dispatched" and _routed(s),
    "start": lambda s: s.status == "accepted",
    "pause": lambda s: s.status in WORKING,
    "resume": lambda s: s.status == "paused",
    "transfer": lambda s: s.status in ("dispatched", *WORKING) and _routed(s),
    "reject": lambda s: s.status in ("dispatched", "accepted") and _routed(s),
    "complete": lambda s: s.status == "in_progress",
    "inspect": lambda s: s.status == "completed" and s.type in NEEDS_FULL_CLOSURE,
    "review": lambda s: s.status == "inspected",
    "return-visit": _may_visit,
    "reopen": lambda s: s.status in FINISHED,
    "cancel": lambda s: not s.is_closed,
    "merge": lambda s: not s.is_closed,
    "archive": _may_archive,
    "progress": lambda s: not s.is_closed,
    "close-visit": lambda s: _may_visit(s) and s.unreachable_attempts >= UNREACHABLE_BEFORE_CLOSING,
    # the letter is read whatever became of the case since
    "acknowledge-mailbox": lambda s: bool(s.mailbox_open),
    "violation-step": lambda s: s.type == "violation" and not s.is_closed,
    "sign-off-penalty": lambda s: s.penalty_unsigned,
}

_DESK = ("front_desk", "butler", "supervisor", "estate_manager")
_WORKERS = ("department_staff", "department_head", "butler", "supervisor", "estate_manager")
_GROUP = ("group_service_center", "group_admin")
ROLES: dict[str, frozenset[str]] = {
    "reply": frozenset(_DESK), "accept": frozenset(_WORKERS), "start": frozenset(_WORKERS),
    "pause": frozenset(_WORKERS), "resume": frozenset(_WORKERS),
    "transfer": frozenset(_WORKERS + ("front_desk",)), "reject": frozenset(_WORKERS),
    "complete": frozenset(_WORKERS), "inspect": frozenset(_DESK + ("resident",)),
    "review": frozenset({"supervisor", "estate_manager"}), "return-visit": frozenset(_DESK),
    "reopen": frozenset(_DESK + ("general_manager",) + _GROUP), "cancel": frozenset(_DESK),
    "merge": frozenset(_DESK), "archive": frozenset(_DESK),
    "progress": frozenset(_DESK + _WORKERS + _GROUP + ("general_manager",)),
    "close-visit": frozenset({"supervisor", "estate_manager"}),
    "acknowledge-mailbox": frozenset({MAILBOX_ROLE}),
    "violation-step": frozenset(_DESK + _WORKERS),  # beyond advice, only a supervisor or the estate manager
    "sign-off-penalty": frozenset({"general_manager"}),
}


# Department staff work the cases of their own department; department heads, supervisors
# and the estate's managers keep the wider rights of their roles.
DEPARTMENT_BOUND = frozenset({"department_staff"})


def may(command: str, state: CaseState) -> bool:
    return _GUARDS[command](state)


def works_on(state: CaseState, role: str, departments: Iterable[str] = ()) -> bool:
    """Whether someone of `role`, listed in `departments` of the case's estate, may act on the
    case at all: department staff only on a case routed to one of their departments."""
    return role not in DEPARTMENT_BOUND or not set(state.departments).isdisjoint(departments)


def may_give(command: str, state: CaseState, role: str, departments: Iterable[str] = ()) -> bool:
    """Whether the role (and, for department staff, their departments) may give the command
    on this case, whatever its state."""
    return role in ROLES[command] and works_on(state, role, departments)


def allowed_commands(state: CaseState, role: str | None = None, departments: Iterable[str] = ()) -> list[str]:
    """The commands the case's state allows; given a role, only those that role may give,
    and for department staff only on a case routed to one of `departments`."""
    departments = tuple(departments)
    return [command for command, guard in _GUARDS.items()
            if guard(state) and (role is None or may_give(command, state, role, departments))]
