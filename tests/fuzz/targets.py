"""Where generated requests go: real cases instead of ids that never exist, and never the demo
estates' set-up; and the check that the demo estates were left as they were."""
from __future__ import annotations

import re
import zlib

import httpx

from estatedesk.demo import DEMO_ESTATES
from estatedesk.inputs import ID_PATTERN
from tests.conftest import token_for


def keep_off_demo_estates(case) -> None:
    """Writes to a demo estate's set-up, policy or households go to a fuzz-only twin instead:
    later tests, and people trying the demo, rely on the demo estates as seeded."""
    estate_id = case.path_parameters.get("estate_id")
    if case.method.upper() != "GET" and isinstance(estate_id, str) and estate_id in DEMO_ESTATES:
        case.path_parameters = {**case.path_parameters, "estate_id": f"FUZZ-{estate_id}"}


def aim_at_cases(case, case_ids: list[str]) -> None:
    """Most well-formed case ids are swapped for one of `case_ids`, so that generated commands
    and reads reach a case's lifecycle and view, not only the 404 of an unknown id; the rest,
    and every malformed id, are sent as generated."""
    case_id = case.path_parameters.get("case_id")
    if isinstance(case_id, str) and re.match(ID_PATTERN, case_id):
        slot = zlib.crc32(case_id.encode("utf-8", "surrogatepass")) % (len(case_ids) + 1)
        if slot < len(case_ids):
            case.path_parameters = {**case.path_parameters, "case_id": case_ids[slot]}


def demo_versions(stack) -> dict[str, tuple[int, ...]]:
    """(set-up, policy, fee schedule) versions of each demo estate."""
    admin = token_for(stack, "group_admin", (), "group-admin")
    with httpx.Client(base_url=stack.url("intake"), headers=admin, timeout=20) as client:
        return {estate_id: tuple(client.get(f"/v1/estates/{estate_id}{part}").raise_for_status().json()["version"]
                                 for part in ("", "/policy", "/fee-schedule"))
                for estate_id in DEMO_ESTATES}
