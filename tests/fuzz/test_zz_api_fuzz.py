"""Nothing a client sends breaks the APIs: every operation of the intake and analytics
OpenAPI documents, fuzzed by schemathesis as a group admin and as E001's front desk, answers
without a server error, in the documented schema, with a documented status code."""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from .targets import aim_at_cases, demo_versions, keep_off_demo_estates

intake = schemathesis.pytest.from_fixture("intake_openapi")
analytics = schemathesis.pytest.from_fixture("analytics_openapi")


def exchange(service: str, case, principal, ledger, target_cases: list[str]) -> None:
    keep_off_demo_estates(case)
    aim_at_cases(case, target_cases)
    response = case.call(headers=principal.headers)
    ledger.requests[service] += 1
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    # An undocumented status is collected, not raised: raised, it would end the operation's
    # fuzzing at its first 401 and hide the server errors behind it.
    try:
        case.validate_response(response, checks=[status_code_conformance])
    except FailureGroup:
        ledger.undocumented[f"{service} {case.operation.label}"].add(response.status_code)


# `principal` is named in usefixtures too: pytest parametrizes only the fixtures it sees when
# collecting, and the schema's wrapper hides the test's own signature.
@analytics.parametrize()
@pytest.mark.usefixtures("principal")
def test_analytics_answers_every_request(case, principal, fuzz_ledger, target_cases):
    exchange("analytics", case, principal, fuzz_ledger, target_cases)


@intake.parametrize()
@pytest.mark.usefixtures("principal")
def test_intake_answers_every_request(case, principal, fuzz_ledger, target_cases):
    exchange("intake", case, principal, fuzz_ledger, target_cases)


def test_every_status_answered_is_documented(fuzz_ledger):
    if not fuzz_ledger.requests:
        pytest.skip("nothing to check: no fuzz request ran in this session; run it with the fuzz tests of this module")
    undocumented = {operation: sorted(statuses) for operation, statuses in sorted(fuzz_ledger.undocumented.items())}
    assert not undocumented, "statuses answered but not in the OpenAPI document:\n" + "\n".join(
        f"  {operation}: {', '.join(map(str, statuses))}" for operation, statuses in undocumented.items())


def test_the_demo_estates_keep_their_set_up_and_policy(stack, fuzz_ledger):
    if not fuzz_ledger.requests:
        pytest.skip("nothing to check: no fuzz request ran in this session; run it with the fuzz tests of this module")
    assert demo_versions(stack) == fuzz_ledger.demo_versions
