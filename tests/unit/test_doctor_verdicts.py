"""The doctor's judgement of what it measured: each finding is OK, WARN or FAIL with what to
do, and any FAIL makes the exit code 1."""
from __future__ import annotations

import pytest

from estatedesk.operate import health
from estatedesk.operate.health import BEHIND_FAIL_S, BEHIND_WARN_S, FAIL, OK, WARN

MIGRATIONS = {1: "0001_event_store.sql", 2: "0002_consumer_tracking.sql"}


def test_a_healthy_system_is_all_ok_and_exits_0():
    verdicts = [health.database(None), health.schema({1, 2}, MIGRATIONS), health.broker(None),
                health.topic("case-events", 3, 3), health.consumer_group("estatedesk-sla", "sla", 1),
                health.consumer_lag("sla", "sla", 0, 0.0), health.outbox(0, 0.0), health.dead_letters({})]
    assert [v.level for v in verdicts] == [OK] * len(verdicts)
    assert health.exit_code(verdicts) == 0


def test_an_unreachable_database_fails_and_says_to_start_the_stack():
    verdict = health.database("connection refused")
    assert verdict.level == FAIL and "make dev" in verdict.advice and "connection refused" in verdict.finding
    assert health.exit_code([health.broker(None), verdict]) == 1


def test_pending_migrations_fail_with_migrate_as_the_remedy():
    verdict = health.schema({1}, MIGRATIONS)
    assert verdict.level == FAIL and "0002_consumer_tracking.sql" in verdict.finding
    assert "estatedesk migrate" in verdict.advice


def test_a_database_migrated_by_a_newer_checkout_warns():
    assert health.schema({1, 2, 3}, MIGRATIONS).level == WARN


def test_a_missing_topic_fails_and_a_different_partition_count_warns():
    missing = health.topic("sla-events", None, 3)
    assert missing.level == FAIL and "estatedesk topics" in missing.advice
    assert health.topic("sla-events", 1, 3).level == WARN


def test_a_consumer_group_without_members_fails_naming_the_services_log():
    verdict = health.consumer_group("estatedesk-dispatch", "dispatch", 0)
    assert verdict.level == FAIL and "logs/dispatch.log" in verdict.advice


@pytest.mark.parametrize("count, oldest_s, level", [
    (0, 0.0, OK),
    (5_000, 1.0, OK),  # a burst, being worked off
    (1, BEHIND_WARN_S + 1, WARN),
    (1, BEHIND_FAIL_S + 1, FAIL),
])
def test_lag_and_the_outbox_are_judged_by_the_age_of_their_oldest_item(count, oldest_s, level):
    assert health.consumer_lag("dispatch", "dispatch", count, oldest_s).level == level
    assert health.outbox(count, oldest_s).level == level


def test_dead_letters_warn_and_point_to_the_requeue_command():
    verdict = health.dead_letters({"sla": 2, "dispatch": 1})
    assert verdict.level == WARN and "3 set aside (dispatch 1, sla 2)" in verdict.finding
    assert "--requeue" in verdict.advice
    assert health.exit_code([verdict]) == 0


def test_each_verdict_is_one_line_with_its_level_first():
    line = health.outbox(2, BEHIND_FAIL_S + 5).line()
    assert line.startswith("FAIL") and "\n" not in line and "logs/intake.log" in line
