"""A second complaint on the same matter (002 §4.2.3) goes to the general manager's mailbox."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from estatedesk.contracts.case_events import RepeatComplaintDetected

DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class EarlierComplaint:
    case_id: str
    household_id: str | None
    category: str | None
    received_at: datetime


def detect(related_case_id: str | None, household_id: str | None, category: str | None, received_at: datetime,
           earlier: list[EarlierComplaint], window_days: int = DEFAULT_WINDOW_DAYS) -> RepeatComplaintDetected | None:
    """An explicit link wins; otherwise the same household complaining of the same category
    within the window is the same matter."""
    if related_case_id:
        return RepeatComplaintDetected(earlier_case_id=related_case_id, how="explicit_link",
                                       household_id=household_id, category=category)
    if not household_id:
        return None
    since = received_at - timedelta(days=window_days)
    matches = sorted((c for c in earlier if c.household_id == household_id and c.category == category
                      and since <= c.received_at <= received_at), key=lambda c: c.received_at)
    if not matches:
        return None
    return RepeatComplaintDetected(earlier_case_id=matches[-1].case_id, how="same_household_category",
                                   household_id=household_id, category=category)
