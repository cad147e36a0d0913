"""When `make dev` empties its broker, and what it keeps: never a message a reading group has
not committed past."""
from __future__ import annotations

from estatedesk.infra.broker_trim import plan_trim

READERS = {"dispatch": ("case-events",), "analytics": ("case-events", "sla-events")}
ENDS = {("case-events", 0): 100, ("case-events", 1): 50, ("sla-events", 0): 30}
CAUGHT_UP = {"dispatch": {("case-events", 0): 100, ("case-events", 1): 50},
             "analytics": {("case-events", 0): 100, ("case-events", 1): 50, ("sla-events", 0): 30}}


def plan(ends=ENDS, committed=CAUGHT_UP, *, held_for_s=600.0, retention_s=300.0, max_messages=10_000):
    return plan_trim(ends, committed, READERS, held_for_s=held_for_s, retention_s=retention_s,
                     max_messages=max_messages)


def test_messages_held_past_the_retention_and_committed_by_every_group_are_all_dropped():
    trim = plan()
    assert trim.keep_from == ENDS
    assert (trim.dropped, trim.carried) == (180, 0)


def test_nothing_is_trimmed_before_the_retention_while_few_messages_are_held():
    assert plan(held_for_s=299.0) is None


def test_holding_max_messages_trims_before_the_retention():
    assert plan(held_for_s=10.0, max_messages=180).dropped == 180
    assert plan(held_for_s=10.0, max_messages=181) is None


def test_each_partition_is_kept_from_the_slowest_reading_group_committed_offset():
    committed = {"dispatch": {("case-events", 0): 60, ("case-events", 1): 50},
                 "analytics": {("case-events", 0): 90, ("case-events", 1): 20, ("sla-events", 0): 30}}
    trim = plan(committed=committed)
    assert trim.keep_from == {("case-events", 0): 60, ("case-events", 1): 20, ("sla-events", 0): 30}
    assert (trim.dropped, trim.carried) == (110, 70)
    assert trim.held_back_by == {("case-events", 0): "dispatch", ("case-events", 1): "analytics"}


def test_a_group_that_does_not_read_a_topic_holds_nothing_back_on_it():
    committed = {"dispatch": {("case-events", 0): 100, ("case-events", 1): 50},  # never reads sla-events
                 "analytics": {("case-events", 0): 100, ("case-events", 1): 50, ("sla-events", 0): 10}}
    assert plan(committed=committed).keep_from[("sla-events", 0)] == 10


def test_a_reading_group_that_has_committed_nothing_on_a_partition_keeps_it_all():
    committed = {"dispatch": CAUGHT_UP["dispatch"], "analytics": {("case-events", 0): 100}}
    trim = plan(committed=committed)
    assert trim.keep_from == {("case-events", 0): 100, ("case-events", 1): 0, ("sla-events", 0): 0}


def test_an_offset_committed_past_the_end_keeps_from_the_end():
    committed = {group: {p: end + 1 for p, end in offsets.items()} for group, offsets in CAUGHT_UP.items()}
    assert plan(committed=committed).keep_from == ENDS


def test_no_trim_when_it_would_drop_less_than_half_of_what_is_held():
    assert plan(committed={}) is None  # a restart would cost every consumer a rejoin and free nothing
    behind = {"dispatch": CAUGHT_UP["dispatch"], "analytics": {**CAUGHT_UP["analytics"], ("case-events", 0): 9}}
    assert plan(committed=behind) is None  # drops 9 + 50 + 30 of 180
    assert plan(committed={**behind, "analytics": {**behind["analytics"], ("case-events", 0): 10}}).dropped == 90


def test_an_empty_broker_or_a_retention_of_zero_is_never_trimmed():
    assert plan(ends={p: 0 for p in ENDS}) is None
    assert plan(retention_s=0) is None
