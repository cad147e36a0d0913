"""Schema-driven fuzzing of the intake and analytics APIs of the session's test stack.

Bounded (the default, part of `make test`): per operation, schemathesis sends the documents'
examples, `ESTATEDESK_FUZZ_EXAMPLES` generated requests (default 4) for each principal, and
its coverage cases (boundary values; for analytics also wrong types, patterns and ranges) as
the group admin, who passes every authorization check, so that those reach the handlers.
About 900 requests.

Time-boxed (`make fuzz`, `ESTATEDESK_FUZZ_SECONDS`): both principals get every coverage case,
then sweeps of 40 generated requests per operation and principal repeat with fresh seeds until
the time is spent; failures are shrunk to a small reproducer.

The fuzz tests run after every other test of the session: they create cases and estates with
generated content, and give generated commands to cases of E001. They never change the demo
estates' set-up or erase their households (see `targets.py`).
"""
from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx
import pytest
import schemathesis

from tests.conftest import token_for
from tests.support import repair_case

from .targets import demo_versions

SECONDS = float(os.environ.get("ESTATEDESK_FUZZ_SECONDS") or 0)
EXAMPLES = int(os.environ.get("ESTATEDESK_FUZZ_EXAMPLES") or (40 if SECONDS else 4))
SWEEP_FLOOR_S = 20  # no sweep is faster than this: bounds the number of sweeps to collect
SWEEPS = max(1, int(SECONDS // SWEEP_FLOOR_S))


@dataclass(frozen=True)
class Principal:
    name: str
    headers: dict


PRINCIPALS = {
    "group_admin": lambda stack: Principal("group_admin", token_for(stack, "group_admin", (), "group-admin")),
    "front_desk": lambda stack: Principal("front_desk", token_for(stack)),
}


@dataclass
class Ledger:
    """What the fuzzing sent and which answers carried a status their document does not list."""

    demo_versions: dict
    started: float = field(default_factory=time.monotonic)
    sweeps: int = 0
    requests: Counter = field(default_factory=Counter)
    undocumented: dict = field(default_factory=lambda: defaultdict(set))

    def summary(self) -> str:
        by_service = ", ".join(f"{service} {n}" for service, n in sorted(self.requests.items()))
        return (f"fuzz: {sum(self.requests.values())} generated requests ({by_service}) in"
                f" {time.monotonic() - self.started:.0f} s; {self.sweeps} sweep(s) of {EXAMPLES} examples"
                f" per operation and principal")


LEDGER = pytest.StashKey[Ledger]()


def pytest_collection_modifyitems(config, items):
    """The fuzz tests go last, sweep by sweep (each sweep covers both APIs); the tests without
    a sweep, which read the ledger, after them."""
    fuzz = [item for item in items if "tests/fuzz/" in item.nodeid]
    fuzz.sort(key=lambda item: getattr(getattr(item, "callspec", None), "params", {}).get("sweep", SWEEPS))
    items[:] = [item for item in items if item not in fuzz] + fuzz


def pytest_terminal_summary(terminalreporter):
    ledger = terminalreporter.config.stash.get(LEDGER, None)
    if ledger is not None and ledger.requests:
        terminalreporter.write_line(ledger.summary())


@pytest.fixture(scope="session")
def fuzz_ledger(request, stack) -> Ledger:
    if LEDGER not in request.config.stash:
        request.config.stash[LEDGER] = Ledger(demo_versions(stack))
    return request.config.stash[LEDGER]


@pytest.fixture(params=range(SWEEPS) if SECONDS else None)
def sweep(request, fuzz_ledger) -> int:
    """In a time-boxed run, a sweep that would start after the time is up is skipped."""
    if SECONDS and time.monotonic() - fuzz_ledger.started > SECONDS:
        pytest.skip("make fuzz: this sweep would start after ESTATEDESK_FUZZ_SECONDS are spent")
    index = getattr(request, "param", 0)
    fuzz_ledger.sweeps = max(fuzz_ledger.sweeps, index + 1)
    return index


@pytest.fixture(params=sorted(PRINCIPALS))
def principal(request, stack) -> Principal:
    """A group admin (every estate) or E001's front desk."""
    return PRINCIPALS[request.param](stack)


def _openapi(stack, service: str, sweep: int, principal: Principal) -> schemathesis.BaseSchema:
    coverage = sweep == 0 and (bool(SECONDS) or principal.name == "group_admin")
    # Negative coverage cases of intake are mostly wrong types in bodies, hundreds of them: the
    # bounded run sends analytics' (its query and path parameters) and leaves intake's to `make fuzz`.
    coverage_mode = "all" if SECONDS or service == "analytics" else "positive"
    # A new config per test: a fresh seed, so each sweep of a time-boxed run generates anew.
    # Shrinking a failing body can take minutes: the bounded run reports failures as found.
    config = schemathesis.Config.from_dict({
        "generation": {"max-examples": EXAMPLES, "database": "none", "no-shrink": not SECONDS},
        "phases": {"coverage": {"enabled": coverage, "generation": {"mode": coverage_mode}}},
        "request-timeout": 30,
    })
    return schemathesis.openapi.from_url(f"{stack.url(service)}/openapi.json", config=config, timeout=30)


@pytest.fixture
def intake_openapi(stack, sweep, principal):
    return _openapi(stack, "intake", sweep, principal)


@pytest.fixture
def analytics_openapi(stack, sweep, principal):
    return _openapi(stack, "analytics", sweep, principal)


@pytest.fixture
def target_cases(stack) -> list[str]:
    """Fresh cases of E001 for each test: the generated commands soon close the previous ones."""
    consultation = {**repair_case(type="consultation", category="fees", title="When is the fee due?"), "repair": None}
    with httpx.Client(base_url=stack.url("intake"), headers=token_for(stack), timeout=20) as client:
        return [client.post("/v1/cases", json=body).raise_for_status().json()["case_id"]
                for body in (repair_case(title="Fuzz target: leaking pipe"), consultation)]
