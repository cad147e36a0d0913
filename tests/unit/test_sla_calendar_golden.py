"""Golden cases for working-time arithmetic, written before the engine.

They cover the bug classes that users of Zammad, GLPI, osTicket and Frappe Helpdesk keep
reporting: deadlines across midnight, weekends, public holidays and adjusted working days
(调休), another timezone, pauses over non-working time. Each expected value is worked out
by hand in its comment. Default working hours: 08:30–17:30 (9 h a day), Asia/Shanghai.
Calendar facts (checked against chinese_calendar): 2025-09-28 (Sun) and 2025-10-11 (Sat) are
adjusted working days; 2025-10-01..08 National Day holiday; 2026-01-01..03 holiday, 2026-01-04 (Sun) adjusted working day; 2026-02-14 (Sat)
and 2026-02-28 (Sat) adjusted working days; 2026-02-15..23 Spring Festival.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.sla.domain.working_time import WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
BUSINESS = WorkingCalendar()
AROUND_THE_CLOCK = WorkingCalendar(around_the_clock=True)


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize("start, duration, due, why", [
    (sh(2026, 11, 23, 16, 30), timedelta(hours=2), sh(2026, 11, 24, 9, 30),
     "Mon 16:30 + 2 h: 1 h left today, 1 h from 08:30 Tue"),
    (sh(2026, 11, 23, 23, 50), timedelta(minutes=30), sh(2026, 11, 24, 9, 0),
     "after hours near midnight: the clock starts at 08:30 next morning"),
    (sh(2026, 11, 27, 17, 0), timedelta(hours=1), sh(2026, 11, 30, 9, 0),
     "Fri 17:00 + 1 h: 30 min Friday, weekend skipped, 30 min Monday"),
    (sh(2025, 9, 30, 17, 0), timedelta(hours=1), sh(2025, 10, 9, 9, 0),
     "eve of National Day: 30 min on 30 Sep, 1–8 Oct off, 30 min on 9 Oct"),
    (sh(2025, 10, 10, 17, 0), timedelta(hours=1), sh(2025, 10, 11, 9, 0),
     "Fri 10 Oct 17:00: Saturday 11 Oct is an adjusted working day"),
    (sh(2025, 9, 27, 10, 0), timedelta(hours=2), sh(2025, 9, 28, 10, 30),
     "Sat 27 Sep is off; Sun 28 Sep is an adjusted working day"),
    (sh(2025, 12, 31, 17, 0), timedelta(hours=1), sh(2026, 1, 4, 9, 0),
     "New Year 2026: 1–3 Jan off, Sunday 4 Jan an adjusted working day"),
    (sh(2026, 2, 13, 17, 0), timedelta(hours=10), sh(2026, 2, 24, 9, 0),
     "Fri 13 Feb 17:00 + 10 h: 0.5 h, Sat 14 Feb (adjusted) 9 h, Festival off, 0.5 h on 24 Feb"),
    (sh(2026, 11, 23, 12, 0), timedelta(0), sh(2026, 11, 23, 12, 0), "zero duration is due at once"),
])
def test_business_deadlines(start, duration, due, why):
    assert BUSINESS.add(start, duration) == due, why


def test_around_the_clock_ignores_nights_weekends_and_holidays():
    assert AROUND_THE_CLOCK.add(sh(2025, 9, 30, 23, 0), timedelta(hours=24)) == sh(2025, 10, 1, 23, 0)


def test_an_estate_in_another_timezone_counts_its_own_office_hours():
    urumqi = WorkingCalendar(timezone="Asia/Urumqi")  # UTC+6: 08:30 there is 10:30 in Shanghai
    start = sh(2026, 11, 23, 9, 0)  # 07:00 in Urumqi: before opening
    assert urumqi.add(start, timedelta(hours=1)) == sh(2026, 11, 23, 11, 30)
    berlin = WorkingCalendar(timezone="Europe/Berlin")  # a European office: 08:30 CET = 15:30 Shanghai
    assert berlin.add(sh(2026, 11, 23, 15, 0), timedelta(minutes=30)) == sh(2026, 11, 23, 16, 0)


@pytest.mark.parametrize("start, end, elapsed, why", [
    (sh(2026, 11, 27, 17, 0), sh(2026, 11, 30, 9, 0), timedelta(hours=1), "a pause over the weekend counts 1 h"),
    (sh(2026, 11, 23, 18, 0), sh(2026, 11, 24, 8, 0), timedelta(0), "a pause over the night counts nothing"),
    (sh(2025, 9, 30, 9, 30), sh(2025, 10, 9, 9, 30), timedelta(hours=9),
     "30 Sep 09:30 to 9 Oct 09:30: 8 h on 30 Sep, holiday, 1 h on 9 Oct"),
    (sh(2026, 11, 23, 10, 0), sh(2026, 11, 23, 9, 0), timedelta(0), "an end before the start counts nothing"),
])
def test_business_time_between(start, end, elapsed, why):
    assert BUSINESS.between(start, end) == elapsed, why


def test_lunch_breaks_can_be_configured():
    with_lunch = WorkingCalendar(spans=(("08:30", "12:00"), ("13:30", "17:30")))
    assert with_lunch.add(sh(2026, 11, 23, 11, 30), timedelta(hours=1)) == sh(2026, 11, 23, 14, 0)


def test_one_working_day_after_a_friday_evening_completion_is_monday_evening():
    assert BUSINESS.add(sh(2026, 11, 27, 19, 0), BUSINESS.working_day) == sh(2026, 11, 30, 17, 30)
