"""The doctor's judgement: what was measured → OK, WARN or FAIL, and what to do about it.

Nothing here talks to a server; `doctor.py` measures and passes the numbers in.

Lag and the outbox backlog are judged by the age of their oldest item, not by counts: a
burst of a thousand cases is a large backlog for a second, while one event that no consumer
has taken for five minutes means something stopped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

OK, WARN, FAIL = "OK", "WARN", "FAIL"
BEHIND_WARN_S = 30.0
"""Oldest unapplied event or unpublished outbox row older than this: WARN."""
BEHIND_FAIL_S = 300.0
"""… older than this: FAIL (the store sweep alone catches a consumer up within seconds)."""


@dataclass(frozen=True)
class Verdict:
    level: str
    check: str
    finding: str
    advice: str = ""

    def line(self) -> str:
        return f"{self.level:<4}  {self.check:<32} {self.finding}" + (f" — {self.advice}" if self.advice else "")


def exit_code(verdicts: Iterable[Verdict]) -> int:
    return 1 if any(v.level == FAIL for v in verdicts) else 0


def not_checked(check: str, because: str) -> Verdict:
    return Verdict(WARN, check, f"not checked: {because}", "fix the failure above first")


def database(error: str | None) -> Verdict:
    if error:
        return Verdict(FAIL, "database", f"unreachable ({error})", "start `make dev` or fix DATABASE_URL")
    return Verdict(OK, "database", "reachable")


def schema(applied: set[int], known: dict[int, str]) -> Verdict:
    pending = [name for number, name in sorted(known.items()) if number not in applied]
    unknown = sorted(applied - set(known))
    if pending:
        return Verdict(FAIL, "schema", f"{len(pending)} migration(s) not applied: {', '.join(pending)}",
                       "run `estatedesk migrate`")
    if unknown:
        return Verdict(WARN, "schema", f"the database has migrations this checkout lacks: {unknown}",
                       "update the checkout to the version that migrated it")
    return Verdict(OK, "schema", f"current ({len(known)} migrations)")


def broker(error: str | None) -> Verdict:
    if error:
        return Verdict(FAIL, "broker", f"unreachable ({error})", "start `make dev` or fix KAFKA_BOOTSTRAP_SERVERS")
    return Verdict(OK, "broker", "reachable")


def topic(name: str, partitions: int | None, configured: int) -> Verdict:
    check = f"topic {name}"
    if partitions is None:
        return Verdict(FAIL, check, "missing", "run `estatedesk topics` (a restarted broker lost them), then "
                                               "`estatedesk replay --to-kafka` if messages were lost with them")
    if partitions != configured:
        return Verdict(WARN, check, f"{partitions} partitions, ESTATEDESK_TOPIC_PARTITIONS says {configured}",
                       "set ESTATEDESK_TOPIC_PARTITIONS to what the topics have, or recreate the topics")
    return Verdict(OK, check, f"{partitions} partitions")


def consumer_group(group: str, service: str, members: int) -> Verdict:
    check = f"group {group}"
    if members == 0:
        return Verdict(FAIL, check, "no members", f"the {service} service is not consuming: "
                                                  f"see logs/{service}.log and restart it")
    return Verdict(OK, check, f"{members} member(s)")


def _behind(check: str, items: str, count: int, oldest_s: float, advice: str) -> Verdict:
    finding = f"{count} {items}, oldest {oldest_s:.0f} s" if count else f"0 {items}"
    if count and oldest_s > BEHIND_FAIL_S:
        return Verdict(FAIL, check, finding, advice)
    if count and oldest_s > BEHIND_WARN_S:
        return Verdict(WARN, check, finding, advice)
    return Verdict(OK, check, finding)


def consumer_lag(consumer: str, service: str, events: int, oldest_s: float) -> Verdict:
    return _behind(f"lag {consumer}", "events not applied", events, oldest_s,
                   f"see logs/{service}.log; its store sweep catches up once the service runs")


def outbox(rows: int, oldest_s: float) -> Verdict:
    return _behind("outbox", "rows waiting", rows, oldest_s,
                   "intake's relay is not publishing: check the broker line above and logs/intake.log")


def dead_letters(by_consumer: dict[str, int]) -> Verdict:
    total = sum(by_consumer.values())
    if not total:
        return Verdict(OK, "dead letters", "none")
    where = ", ".join(f"{consumer} {count}" for consumer, count in sorted(by_consumer.items()))
    return Verdict(WARN, "dead letters", f"{total} set aside ({where})",
                   "read them with `estatedesk dead-letters`, fix the cause, then `estatedesk dead-letters --requeue`")


def calendar(missing_years: list[int]) -> Verdict:
    """Years (of this one and the next) whose official working calendar nobody has: SLA
    deadlines there count every weekday as a working day, public holidays included."""
    if missing_years:
        years = ", ".join(map(str, missing_years))
        return Verdict(WARN, "calendar", f"no official working calendar for {years}: holidays count as working days",
                       f"the group admin loads it: PUT /v1/calendar/{missing_years[0]} on intake")
    return Verdict(OK, "calendar", "this year's and next year's working days are known")
