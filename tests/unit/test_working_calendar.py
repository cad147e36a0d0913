"""The official working calendar as data: a year the group admin loaded replaces the table
`chinese_calendar` ships, a year nobody covers is Monday to Friday, and whatever table passes
`PUT /v1/calendar/{year}` leaves the SLA arithmetic working.
Calendar facts: 2027-01-01 is a Friday, 2027-02-06 a Saturday; 2026-10-01 (Thu) is a shipped holiday."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from estatedesk.operate import health
from services.intake.setup_models import MAX_HOLIDAYS, MAX_WORKING_DAYS, WorkingCalendarIn
from services.sla.domain.sla_policy import policy_from
from services.sla.domain.working_time import (LoadedTable, OfficialCalendar, WorkingCalendar, YearTable,
                                              is_working_day, missing_years)

SH = ZoneInfo("Asia/Shanghai")
TABLE_2027 = YearTable(holidays=frozenset({date(2027, 1, 1)}), working_days=frozenset({date(2027, 2, 6)}))
LOADED_2027 = {2027: TABLE_2027}
LOADED_AT = datetime(2026, 12, 2, 9, 0, tzinfo=SH)
CALENDAR = OfficialCalendar((LoadedTable(2027, TABLE_2027, LOADED_AT),))


def test_a_loaded_holiday_is_not_a_working_day():
    assert is_working_day(date(2027, 1, 1)) and not is_working_day(date(2027, 1, 1), LOADED_2027)


def test_a_loaded_adjusted_saturday_is_a_working_day():
    assert not is_working_day(date(2027, 2, 6)) and is_working_day(date(2027, 2, 6), LOADED_2027)


def test_an_unloaded_year_beyond_the_shipped_tables_is_monday_to_friday():
    assert [is_working_day(date(2027, 3, d)) for d in range(1, 8)] == [True] * 5 + [False] * 2
    assert missing_years([2026, 2027]) == [2027] and missing_years([2026, 2027], LOADED_2027) == []


def test_a_loaded_year_replaces_the_shipped_table_of_that_year():
    national_day = date(2026, 10, 1)
    assert not is_working_day(national_day)
    assert is_working_day(national_day, {2026: YearTable()})


def test_the_newest_table_of_a_year_loaded_by_then_is_in_force():
    first, second = YearTable(holidays=frozenset({date(2027, 1, 1)})), YearTable()
    calendar = OfficialCalendar((LoadedTable(2027, first, LOADED_AT),
                                 LoadedTable(2027, second, LOADED_AT + timedelta(days=1))))
    assert calendar.as_of(LOADED_AT - timedelta(seconds=1)) == {}
    assert calendar.as_of(LOADED_AT) == {2027: first}
    assert calendar.as_of(LOADED_AT + timedelta(days=2)) == {2027: second}


def test_deadlines_skip_a_loaded_holiday():
    eve = datetime(2026, 12, 31, 17, 0, tzinfo=SH)  # Thursday: 30 min today, then Friday 1 Jan 2027
    assert WorkingCalendar().add(eve, timedelta(hours=1)) == datetime(2027, 1, 1, 9, 0, tzinfo=SH)
    assert WorkingCalendar(official=CALENDAR).add(eve, timedelta(hours=1)) == datetime(2027, 1, 4, 9, 0, tzinfo=SH)
    assert WorkingCalendar(official=CALENDAR).between(eve, datetime(2027, 1, 4, 9, 0, tzinfo=SH)) == timedelta(hours=1)


def test_a_deadline_announced_before_the_table_was_loaded_stays_where_it_is():
    started = LOADED_AT - timedelta(days=1)
    calendar = WorkingCalendar(official=CALENDAR)
    month = timedelta(hours=9 * 25)  # 25 working days: past New Year, before the adjusted Saturday
    assert calendar.add(started, month) == WorkingCalendar().add(started, month)
    assert calendar.add(LOADED_AT, month) > WorkingCalendar().add(LOADED_AT, month)


def test_the_sla_policy_counts_working_days_by_the_loaded_tables():
    completed = datetime(2026, 12, 31, 10, 0, tzinfo=SH)
    for official, due in ((OfficialCalendar(), date(2027, 1, 1)), (CALENDAR, date(2027, 1, 4))):
        policy = policy_from(0, completed, None, "Asia/Shanghai", official)
        rule = policy.rule("return_visit_made")
        assert policy.calendar.add(completed, policy.calendar.working_day * rule.working_days).date() == due


def test_readiness_warns_while_a_year_has_no_table():
    warning = health.calendar([2027])
    assert warning.level == health.WARN and "2027" in warning.finding and "/v1/calendar/2027" in warning.advice
    assert health.calendar([]).level == health.OK


@pytest.mark.parametrize("body, field", [
    ({"holidays": ["2027-01-01", "2027-01-01"], "working_days": []}, "holidays"),
    ({"holidays": ["2027-01-01"], "working_days": ["2027-01-01"]}, "working_days"),
    ({"holidays": [20270101], "working_days": []}, "holidays"),
    ({"holidays": ["2027-02-30"], "working_days": []}, "holidays"),
    ({"holidays": [], "working_days": [], "note": "x"}, "note"),
    ({"holidays": []}, "working_days"),
    ({"holidays": [str(date(2027, 1, 1) + timedelta(days=i)) for i in range(MAX_HOLIDAYS + 1)],
      "working_days": []}, "holidays"),
])
def test_a_junk_table_is_refused_naming_the_field(body, field):
    with pytest.raises(ValidationError) as refused:
        WorkingCalendarIn.model_validate(body)
    assert [e["loc"][0] for e in refused.value.errors()] == [field]


def test_days_outside_the_year_are_named_by_position():
    body = WorkingCalendarIn.model_validate({"holidays": ["2027-01-01", "2028-01-01"], "working_days": ["2026-12-27"]})
    assert body.outside(2027) == [("holidays.1", "is not in 2027"), ("working_days.0", "is not in 2027")]


days_of_2027 = st.dates(date(2027, 1, 1), date(2027, 12, 31))


@settings(max_examples=60, deadline=None)
@given(holidays=st.lists(days_of_2027, max_size=MAX_HOLIDAYS, unique=True),
       working=st.lists(days_of_2027, max_size=MAX_WORKING_DAYS, unique=True),
       start=st.datetimes(datetime(2026, 12, 1), datetime(2027, 12, 31)))
def test_any_accepted_table_leaves_working_time_in_every_year(holidays, working, start):
    working = [d for d in working if d not in holidays]
    body = WorkingCalendarIn.model_validate({"holidays": [d.isoformat() for d in holidays],
                                      "working_days": [d.isoformat() for d in working]})
    start = start.replace(tzinfo=SH)
    calendar = WorkingCalendar(official=OfficialCalendar((
        LoadedTable(2027, YearTable(frozenset(body.holidays), frozenset(body.working_days)), LOADED_AT),)))
    due = calendar.add(start, calendar.working_day * 5)
    assert start < due < start + timedelta(days=366)
