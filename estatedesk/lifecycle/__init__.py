"""The case lifecycle of SPEC §3, shared by the command side and the read side: one fold,
one table of guards. Pure: no I/O, no clock."""
from .guards import DEPARTMENT_BOUND, ROLES, allowed_commands, may, may_give, works_on
from .state import (
    DESK_TYPES, MAILBOX_ROLE, NEEDS_FULL_CLOSURE, CaseState, charge_event_id, evolve, fold, fold_stored, started,
    void_event_id,
    waiting_for,
)

__all__ = ["DEPARTMENT_BOUND", "ROLES", "allowed_commands", "may", "may_give", "works_on", "DESK_TYPES",
           "MAILBOX_ROLE", "NEEDS_FULL_CLOSURE", "CaseState", "charge_event_id", "evolve", "fold", "fold_stored",
           "started", "void_event_id", "waiting_for"]
