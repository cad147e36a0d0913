"""The dev command's supervision rules, on a clock the test turns."""
from __future__ import annotations

from estatedesk.infra.supervisor import Backoff, Part, Supervisor


class FakePart:
    def __init__(self, name: str, *, infrastructure: bool = False, fails_to_start: int = 0):
        self.running, self.starts, self.fails_to_start = True, 0, fails_to_start
        self.part = Part(name, lambda: self.running, self.start, infrastructure=infrastructure)

    def start(self) -> None:
        self.starts += 1
        if self.fails_to_start:
            self.fails_to_start -= 1
            raise OSError("port taken")
        self.running = True


def test_the_delay_doubles_up_to_its_cap_and_a_long_run_forgives_the_failures():
    backoff = Backoff(first_s=1, longest_s=8, forgiven_after_s=60)
    backoff.started(0)
    assert [backoff.died(t) for t in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 8]
    backoff.started(100)
    assert backoff.died(170) == 1  # ran 70 s: a fresh start


def test_a_dead_service_is_started_again_once_its_delay_passed_and_the_others_are_left_alone():
    lines: list[str] = []
    dispatch, sla = FakePart("dispatch"), FakePart("sla")
    supervisor = Supervisor([dispatch.part, sla.part], lines.append, now=0)
    dispatch.running = False
    supervisor.check(10.0)
    assert dispatch.starts == 0 and lines == ["dispatch stopped unexpectedly; starting it again in 1s"]
    supervisor.check(10.5)
    assert dispatch.starts == 0
    supervisor.check(11.0)
    assert (dispatch.starts, sla.starts) == (1, 0)
    assert lines[-1] == "dispatch started again (restart 1)"
    supervisor.check(12.0)
    assert dispatch.starts == 1  # running again: nothing to do


def test_a_part_that_keeps_failing_to_start_is_tried_ever_more_slowly():
    lines: list[str] = []
    broker = FakePart("broker", fails_to_start=2)
    supervisor = Supervisor([broker.part], lines.append, now=0)
    broker.running = False
    tries = []
    for tenth in range(0, 200):
        now = tenth / 10
        before = broker.starts
        supervisor.check(now)
        if broker.starts != before:
            tries.append(now)
    assert tries == [1.0, 3.0, 7.0]  # 1 s, then 2 s, then 4 s after each failed start
    assert broker.running and supervisor.restarts["broker"] == 1


def test_services_wait_while_the_database_is_down():
    database, intake = FakePart("PostgreSQL", infrastructure=True, fails_to_start=1), FakePart("intake")
    supervisor = Supervisor([database.part, intake.part], lambda line: None, now=0)
    database.running = intake.running = False
    supervisor.check(0.0)
    supervisor.check(1.0)  # the database's first start fails
    assert (database.starts, intake.starts) == (1, 0)
    supervisor.check(3.0)  # the database is back; only now is the service looked at
    assert (database.starts, intake.starts) == (2, 0)
    supervisor.check(4.0)
    assert intake.starts == 1
