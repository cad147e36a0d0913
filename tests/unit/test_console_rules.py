"""The console's own small rules: sign-in lockout, who an event notifies, deadline colours, the catalogue."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from services.console.auth.policy import LOCK_FOR, MAX_FAILURES, judge
from services.console.deadlines import deadline_state, next_deadline
from services.console.i18n import CATALOGUES, translate
from services.console.inbox.recipients import recipients

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def account(**kw) -> dict:
    return {"disabled": False, "failed_attempts": 0, "locked_until": None, **kw}


def test_five_failures_lock_the_account_for_fifteen_minutes():
    a = account()
    for n in range(1, MAX_FAILURES):
        attempt = judge(a, False, NOW)
        assert (attempt.allowed, attempt.reason, attempt.failed_attempts) == (False, "wrong_password", n)
        a = account(failed_attempts=attempt.failed_attempts)
    locked = judge(a, False, NOW)
    assert (locked.reason, locked.locked_until) == ("locked", NOW + LOCK_FOR)
    a = account(locked_until=locked.locked_until)
    assert judge(a, True, NOW + timedelta(minutes=14)).reason == "locked"  # even the right password
    assert judge(a, True, NOW + LOCK_FOR + timedelta(seconds=1)).allowed


def test_disabled_and_unknown_accounts_never_sign_in():
    assert judge(account(disabled=True), True, NOW).reason == "disabled"
    assert judge(None, True, NOW).reason == "unknown"


def test_an_escalation_notifies_the_role_holders_once_each():
    staff = {"estate_manager": ["e001-manager-wei"], "engineering": ["e001-eng-sun"]}
    assert recipients("EscalationRaised", {"to_role": "estate_manager"}, staff, ["e001-manager-wei", "x"]) == [
        "e001-manager-wei", "x"]
    assert recipients("EscalationRaised", {"to_role": "supervisor"}, staff, ["e001-supervisor-qian"]) == [
        "e001-supervisor-qian"]
    assert recipients("CaseDispatched", {"assignee": "e001-eng-sun"}, staff, []) == ["e001-eng-sun"]
    assert recipients("SlaMet", {}, staff, ["someone"]) == []


def test_deadline_colours_follow_the_warning_share():
    d = {"rule": "r", "started_at": (NOW - timedelta(minutes=90)).isoformat(),
         "due_at": (NOW + timedelta(minutes=10)).isoformat(), "met_at": None, "breached": False}
    assert deadline_state(d, NOW)["state"] == "warning"  # 90 of 100 minutes gone
    assert deadline_state({**d, "started_at": NOW.isoformat()}, NOW)["state"] == "open"
    assert deadline_state({**d, "breached": True}, NOW)["state"] == "breached"
    assert deadline_state({**d, "met_at": NOW.isoformat()}, NOW)["state"] == "met"
    assert deadline_state({"rule": "r", "due_at": (NOW - timedelta(seconds=1)).isoformat()}, NOW)["state"] == "breached"
    assert next_deadline({"deadlines": [{**d, "met_at": NOW.isoformat()}]}, NOW) is None
    assert next_deadline({}, NOW) is None


TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "console"


def test_every_label_in_the_templates_is_in_both_catalogues():
    used = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"""t\(['"]([a-z_]+\.[a-z_.-]+)['"]""", path.read_text()))
    assert used, "expected labels"
    for lang, catalogue in CATALOGUES.items():
        assert sorted(used - set(catalogue)) == [], lang
    assert set(CATALOGUES["en"]) == set(CATALOGUES["zh-CN"])


def test_an_unknown_key_still_reads_as_words():
    assert translate("en", "category.blocked_drain") == "blocked drain"
    assert translate("zh-CN", "status.accepted") == "已接单"
