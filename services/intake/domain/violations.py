"""The violation handling ladders of 000 §1, as data, and the decision of one step.

Conduct: advise and educate at once, then a written notice with a deadline to rectify,
compensation for losses, a public notice for who will not listen, referral to the
authorities. A refused fee: persuasion, a reminder letter with a deadline to pay, a late
fee, a lawyer's letter, a public posting, suspended service, arbitration or a lawsuit.
Anyone working the case may advise; only a supervisor or the estate manager may take a step
beyond that (严禁越权处罚)."""
from __future__ import annotations

from datetime import datetime, timedelta

from .errors import InvalidCommand, NotPermitted

LADDERS: dict[str, tuple[str, ...]] = {
    "conduct": ("advice", "written_notice", "compensation", "public_notice", "referral"),
    "fee_refusal": ("persuasion", "reminder_letter", "late_fee", "lawyer_letter", "public_posting",
                    "service_suspended", "arbitration"),
}
STEPS = tuple(dict.fromkeys(step for ladder in LADDERS.values() for step in ladder))
ADVICE = frozenset({"advice", "persuasion"})
WITH_DEADLINE = frozenset({"written_notice", "reminder_letter"})  # the rectification clock
STEP_ROLES = frozenset({"supervisor", "estate_manager"})
MAX_DAYS_TO_RECTIFY = 90


def ladder_of(category: str | None) -> str:
    return "fee_refusal" if category == "fee_refusal" else "conduct"


def step_taken(category: str | None, step: str, days: int | None, role: str, now: datetime
               ) -> tuple[str, datetime | None]:
    """The ladder and the rectification deadline of `step` on a violation of `category`."""
    ladder = ladder_of(category)
    if step not in LADDERS[ladder]:
        raise InvalidCommand([("step", f"a {ladder.replace('_', ' ')} violation's steps are "
                                       f"{', '.join(LADDERS[ladder])}")])
    if step not in ADVICE and role not in STEP_ROLES:
        raise NotPermitted(f"only a supervisor or the estate manager may take the step {step}; others advise")
    if step in WITH_DEADLINE:
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS_TO_RECTIFY:
            raise InvalidCommand([("rectify_within_days", f"a {step} gives 1 to {MAX_DAYS_TO_RECTIFY} days")])
        return ladder, now + timedelta(days=days)
    if days is not None:
        raise InvalidCommand([("rectify_within_days", f"only {' and '.join(sorted(WITH_DEADLINE))} set a deadline")])
    return ladder, None
