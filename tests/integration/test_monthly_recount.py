"""A month driven through the services' public HTTP API, and every figure `GET /v1/stats/monthly`
serves recounted from the events the services stored.

Four estates of this module's own get some 2,000 cases of every type and channel, filed by the desk,
by the group (transferred complaints) and by residents (the app), a good share back-dated by
up to six and a half days so that their deadlines are long past. Most stay where dispatch
leaves them; about forty per estate are walked on by the people its staff lists name:
replies, referrals, cancellations and merges at the desk; acceptance, pauses, transfers,
rejections, completions with and without charge lines, failed inspections, reviews, return
visits (some dissatisfied), reopenings and recompletions that supersede a bill. Breaches,
escalations, repeat complaints and second clocks of a rule come from the services
themselves: this test writes nothing to the store.

Once every service has applied every event of these cases and no deadline of theirs is
due, the served answer of each estate and of the group, for this month and the last
(back-dating may reach into it), is compared figure by figure with tests/recount.py, which
reads the events table and shares no code with the analytics service.
"""
from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from estatedesk.demo import DEMO_FEES, staffed_estate
from tests.conftest import token_for
from tests.recount import differences, previous_month, report, stored_cases
from tests.support import eventually, stack_now

SHANGHAI = ZoneInfo("Asia/Shanghai")
ESTATES, UNTOUCHED_PER_ESTATE, BUILDINGS = 4, 450, 5
IN_FLIGHT = 6  # requests at once: the stack shares two cores with whatever else runs
OLD_BUILDING = "1"  # handed over in 2015: every in-home repair there is paid work
# How far back a case is logged, and how often: every threshold (5 and 10 minutes, 24 h, and
# 24 h + 4 h and + 24 h for escalations) is either long past or hours away while this runs.
BACKDATING = ((timedelta(0), 55), (timedelta(hours=3), 15), (timedelta(hours=30), 12), (timedelta(days=3), 10),
              (timedelta(days=6, hours=12), 8))
UNTOUCHED_TYPES = (("repair", 32), ("complaint", 18), ("consultation", 20), ("help", 12), ("suggestion", 8),
                   ("violation", 10))
CATEGORIES = {
    "repair": ("plumbing", "leak", "electrical", "door", "lighting"),
    "complaint": ("noise", "environment", "greenery", "service", "parking"),
    "consultation": ("fees", "decoration_rules", "parking", "pets"),
    "suggestion": ("greenery", "facilities", "security"),
    "help": ("other", "other", "other", "medical", "security_incident", "disaster"),
    "violation": ("decoration", "fire_safety", "environment", "public_security", "fee_refusal", "harming_others"),
}
AREAS = ("north gate", "car park", "lift lobby", "pond", "bin station")
REGULARS = ("2-1-0101", "3-2-0502", "4-1-1201")  # homes that complain again and again: repeats
WORKER = {"engineering": "engineering", "security": "security", "cleaning": "cleaning", "greening": "greening",
          "customer_service": "butler", "estate_manager": "manager"}
HELP_DEPARTMENT = {"medical": "security", "security_incident": "security", "disaster": "engineering",
                   "other": "customer_service"}


def _complaint_department(category: str) -> str:
    return {"environment": "cleaning", "greenery": "greening"}.get(category, "customer_service")


def _setup(estate_id: str, today: date) -> dict:
    body = staffed_estate(f"Recount Gardens {estate_id}", estate_id, BUILDINGS).model_dump(mode="json")
    for building in body["buildings"]:
        old = building["id"] == OLD_BUILDING
        building["handover_date"] = "2015-03-31" if old else (today - timedelta(days=400)).isoformat()
    return body


def _people(stack, estate_id: str) -> dict[str, dict]:
    low = estate_id.lower()

    def token(role: str, user: str) -> dict:
        return token_for(stack, role, (estate_id,), f"{low}-{user}")

    return {"desk": token("front_desk", "desk-zhao"), "supervisor": token("supervisor", "supervisor-qian"),
            "manager": token("estate_manager", "manager-wei"), "butler": token("butler", "butler-li"),
            "engineering": token("department_staff", "eng-sun"), "security": token("department_staff", "sec-wu"),
            "cleaning": token("department_staff", "clean-chen"), "greening": token("department_staff", "green-chu"),
            "gm": token("general_manager", "gm-he"),
            "group": token_for(stack, "group_service_center", (), "group-center-lin")}


class Month:
    """Files and walks cases of the module's estates, a bounded number of requests at once."""

    def __init__(self, stack, intake, estates: list[str], seed: int):
        self.stack, self.intake, self.estates = stack, intake, estates
        self.people = {e: _people(stack, e) for e in estates}
        self.slots = asyncio.Semaphore(IN_FLIGHT)
        self.rng = random.Random(seed)
        self.now = stack_now()
        self.requests = self.filed = 0

    async def post(self, path: str, body: dict, headers: dict):
        async with self.slots:
            self.requests += 1
            return await self.intake.post(path, json=body, headers=headers)

    async def file(self, body: dict, who: str | dict = "desk") -> Case:
        headers = who if isinstance(who, dict) else self.people[body["estate_id"]][who]
        response = await self.post("/v1/cases", body, headers)
        assert response.status_code == 201, response.text
        self.filed += 1
        return Case(self, body["estate_id"], response.json()["case_id"], body)

    def body(self, estate: str, kind: str, category: str | None = None, *, backdate: timedelta | None = None,
             home: bool | None = None, building: str | None = None, regular: bool = False, **block) -> dict:
        """A new case; what is not given is drawn: category, place, channel, back-dating."""
        rng = self.rng
        category = category or rng.choice(CATEGORIES[kind])
        home = (rng.random() < 0.65) if home is None else home
        if regular:
            building, unit, room = rng.choice(REGULARS).split("-")
        else:
            building = building or str(rng.randint(1, BUILDINGS))
            unit, room = str(rng.randint(1, 2)), f"{rng.randint(1, 18):02d}0{rng.randint(1, 2)}"
        in_home = home or regular
        location = {"building": building, "unit": unit, "room": room} if in_home else {"area": rng.choice(AREAS)}
        household = f"H-{building}-{unit}-{room}" if "room" in location else None
        body = {"estate_id": estate, "type": kind, "category": category,
                "channel": rng.choice(("phone", "phone", "walk_in", "app", "patrol")),
                "title": f"{kind} {category}", "description": "logged by the recount month", "location": location,
                "reporter": {"name": "业主", "phone": "13900001111", "household_id": household}}
        backdate = rng.choices(*zip(*BACKDATING))[0] if backdate is None else backdate
        if backdate:
            body["received_at"] = (self.now - backdate).astimezone(SHANGHAI).isoformat()
        defaults = {"repair": {"scope": "in_home" if "room" in location else "public_area", "in_warranty": None},
                    "complaint": {"origin": "resident"}, "help": {"serious": rng.random() < 0.3},
                    "violation": {"severity": rng.choice(("general", "general", "major"))}}
        if kind in defaults:
            body[kind] = {**defaults[kind], **block}
        return body


@dataclass
class Case:
    month: Month
    estate: str
    case_id: str
    body: dict
    worker: str = "desk"
    resident: dict | None = None  # a token of the reporter's household
    target: str | None = None  # the open case a duplicate is merged into

    def headers(self, who: str | dict) -> dict:
        return who if isinstance(who, dict) else self.month.people[self.estate][who]

    async def do(self, command: str, who: str | dict, **body) -> dict:
        response = await self.month.post(f"/v1/cases/{self.case_id}/{command}", body, self.headers(who))
        assert response.status_code == 200, f"{self.case_id} {command}: {response.status_code} {response.text}"
        return response.json()

    async def once_routed(self, command: str, who: str, **body) -> dict:
        """A command that needs another service's fact (dispatch's decision, the SLA service's
        escalation to the general manager) is refused (409, recording nothing) until that
        service has stored it; it is given again, less and less often, until a deadline."""
        deadline, pause = time.monotonic() + 120, 0.2
        while True:
            response = await self.month.post(f"/v1/cases/{self.case_id}/{command}", body, self.headers(who))
            if response.status_code != 409 or time.monotonic() > deadline:
                assert response.status_code == 200, f"{self.case_id} {command}: {response.status_code} {response.text}"
                return response.json()
            await asyncio.sleep(pause)  # poll with a deadline: dispatch has a backlog while cases pour in
            pause = min(pause * 1.5, 3.0)

    async def work(self, department: str, *, pause: str | None = None, charges: bool = False,
                   transfer_to: str | None = None) -> None:
        worker = WORKER[department]
        if transfer_to:
            await self.once_routed("transfer", worker, to_department=transfer_to, reason="not ours")
            worker, department = WORKER[transfer_to], transfer_to
        await self.once_routed("accept", worker, department=department)
        await self.do("start", worker)
        if pause:
            await self.do("pause", worker, reason=pause, note="waiting")
            await self.do("resume", worker)
        self.worker = worker
        await self.complete(charges=charges)

    async def complete(self, *, charges: bool = False) -> None:
        lines = [{"item_code": self.month.rng.choice(["PL-TRAP", "PL-SEAL", "EL-SOCKET"]),
                  "quantity": self.month.rng.randint(1, 3)}, {"item_code": "LABOUR-H", "quantity": 1}]
        await self.do("complete", self.worker, result="done", **({"charge_lines": lines} if charges else {}))

    async def closure(self, *, fail_first: bool = False) -> None:
        """Inspection (a failed one sends it back to work, done again for free), then the review."""
        inspector, role = (self.resident, "owner") if self.body["channel"] == "app" and self.resident \
            else ("desk", "property_assistant")
        if fail_first:
            await self.do("inspect", inspector, passed=False, inspector_role=role, notes="not finished")
            await self.complete()
        await self.do("inspect", inspector, passed=True, inspector_role=role)
        await self.do("review", "supervisor", notes="checked")

    async def visit(self, satisfaction: str = "satisfied", *, full_closure: bool) -> None:
        """A return visit; a dissatisfied one reopens the case, which is done again and visited."""
        await self.do("return-visit", "desk", method="phone", satisfaction=satisfaction)
        if satisfaction == "dissatisfied":
            await self.complete()
            if full_closure:
                await self.closure()
            await self.do("return-visit", "desk", method="door", satisfaction="satisfied")


# ---- the scenarios: what happens to a walked case after it is filed ----

async def reply_archive(c: Case) -> None:
    await c.do("reply", "desk", answer="answered at the desk", result="informed")
    await c.do("archive", "desk")


async def reply_visit_archive(c: Case) -> None:
    await c.do("reply", "desk", answer="answered at the desk")
    await c.do("return-visit", "desk", method="phone", satisfaction=c.month.rng.choice(("satisfied", "neutral")))
    await c.do("archive", "desk")


async def referred(c: Case) -> None:
    await c.do("reply", "desk", refer_to_supervisor=True, reason="the desk cannot answer this")
    await c.do("reply", "supervisor", answer="the supervisor answered")
    await c.do("archive", "desk")


async def reply_only(c: Case) -> None:
    await c.do("reply", "desk", answer="answered")


async def cancelled(c: Case) -> None:
    await c.do("cancel", "desk", reason="withdrawn by the resident")


async def merged(c: Case) -> None:
    await c.do("merge", "desk", into_case_id=c.target)


async def help_worked(c: Case) -> None:
    category = c.body["category"]
    await c.work(HELP_DEPARTMENT[category], pause="other" if category == "security_incident" else None,
                 charges=c.body["help"].get("paid", False))
    if category != "disaster":
        await c.visit(c.month.rng.choice(("satisfied", "neutral")), full_closure=False)
    await c.do("archive", "desk")


async def complaint_reinspected(c: Case) -> None:
    await c.work(_complaint_department(c.body["category"]), pause="waiting_on_resident")
    await c.closure(fail_first=True)  # the reopening starts complaint_completed again
    await c.visit(full_closure=True)
    await c.do("archive", "desk")


async def complaint_dissatisfied(c: Case) -> None:
    await c.work(_complaint_department(c.body["category"]))
    await c.closure()
    await c.visit("dissatisfied", full_closure=True)
    await c.do("archive", "desk")


async def complaint_late(c: Case) -> None:
    await c.work(_complaint_department(c.body["category"]), pause="waiting_on_resident")  # paused after its breach
    await c.closure()


async def complaint_from_group(c: Case) -> None:
    await c.do("progress", "group", note="reported to the group register")
    await c.once_routed("accept", "butler", department="customer_service")
    await c.do("start", "butler")


async def complaint_from_group_closed(c: Case) -> None:
    """Its result goes back to the group register when it is archived."""
    await c.do("progress", "group", note="reported to the group register")
    await c.work("customer_service")
    await c.closure()
    await c.visit(full_closure=True)
    await c.do("archive", "desk")


async def complaint_waiting(c: Case) -> None:
    department = _complaint_department(c.body["category"])
    await c.once_routed("accept", WORKER[department], department=department)
    await c.do("start", WORKER[department])
    await c.do("pause", WORKER[department], reason="waiting_on_resident")


async def filed_only(c: Case) -> None:
    pass


async def read_by_the_general_manager(c: Case) -> None:
    await c.once_routed("acknowledge-mailbox", "gm", remark="read; the estate manager calls the resident")


async def repair_paid(c: Case) -> None:
    await c.work("engineering", pause="waiting_on_parts", charges=True)
    await c.closure()
    await c.visit(full_closure=True)
    await c.do("archive", "desk")


async def repair_rebilled(c: Case) -> None:
    await c.work("engineering", charges=True)
    await c.do("reopen", "desk", reason="leak came back")
    await c.complete(charges=True)  # the reopen voided the first bill; this one stands alone
    await c.closure()
    await c.visit(full_closure=True)
    await c.do("archive", "desk")


async def repair_redone_free(c: Case) -> None:
    await c.work("engineering", charges=True)
    await c.closure(fail_first=True)  # the failed inspection voided the bill; done again for nothing
    await c.visit(full_closure=True)


async def repair_in_warranty(c: Case) -> None:
    await c.work("engineering")
    await c.closure()
    await c.visit(c.month.rng.choice(("satisfied", "dissatisfied")), full_closure=True)
    await c.do("archive", "desk")


async def repair_transferred(c: Case) -> None:
    await c.work("engineering", transfer_to="cleaning")
    await c.closure()


async def repair_rejected(c: Case) -> None:
    await c.once_routed("reject", "engineering", reason="a public drain is the city's")
    await c.work("customer_service")  # every department able to take it refused: the desk's supervisor


async def violation_general(c: Case) -> None:
    await c.once_routed("accept", "butler", department="customer_service")
    await c.do("start", "butler")
    await c.do("complete", "supervisor", result="warned and fined", penalty_fen=20000)  # a supervisor fines
    await c.do("archive", "desk")


async def violation_major(c: Case) -> None:
    await c.do("violation-step", "desk", step="advice", note="asked to stop at once")
    await c.do("violation-step", "supervisor", step="written_notice", rectify_within_days=3)
    await c.once_routed("accept", "manager", department="estate_manager")
    await c.do("start", "manager")
    await c.do("complete", "manager", result="fined", penalty_fen=100000)  # no satisfaction visit (000 §1)
    await c.do("sign-off-penalty", "gm", remark="agreed")
    await c.do("archive", "desk")


HOURS_AGO, DAYS_AGO = timedelta(hours=30), timedelta(days=3)
# per estate: (cases, type, category (None: drawn), filed by, what the body says, scenario)
WALKS = (
    (4, "consultation", None, "desk", {}, reply_archive),
    (1, "suggestion", None, "desk", {}, reply_visit_archive),
    (2, "consultation", None, "desk", {}, referred),
    (1, "suggestion", None, "desk", {}, reply_only),
    (1, "consultation", None, "desk", {}, cancelled),
    (1, "consultation", None, "desk", {"merge": True}, merged),
    (2, "help", "other", "desk", {"backdate": timedelta(hours=3)}, reply_archive),  # replied after its breach
    (1, "help", "other", "desk", {"backdate": timedelta(0)}, reply_archive),
    (1, "help", "other", "desk", {"paid": True}, help_worked),
    (1, "help", "medical", "desk", {"serious": True}, help_worked),
    (1, "help", "medical", "desk", {"serious": False}, help_worked),
    (1, "help", "security_incident", "desk", {}, help_worked),
    (1, "help", "disaster", "desk", {"serious": True}, help_worked),
    (1, "complaint", "environment", "desk", {}, complaint_reinspected),
    (1, "complaint", "greenery", "desk", {"backdate": timedelta(0)}, complaint_reinspected),
    (1, "complaint", "noise", "desk", {"backdate": HOURS_AGO}, complaint_reinspected),
    (1, "complaint", "service", "desk", {}, complaint_dissatisfied),
    (1, "complaint", None, "desk", {"backdate": HOURS_AGO}, complaint_late),
    (1, "complaint", None, "desk", {"backdate": DAYS_AGO}, complaint_late),
    (1, "complaint", "service", "group", {"origin": "group_center", "backdate": timedelta(0)}, complaint_from_group),
    (1, "complaint", "service", "group", {"origin": "quality_office", "backdate": HOURS_AGO}, complaint_from_group),
    (1, "complaint", "service", "group", {"origin": "group_center", "group_ref": "GRP-RECOUNT"},
     complaint_from_group_closed),
    (1, "complaint", "noise", "desk", {}, complaint_waiting),
    (1, "complaint", "parking", "desk", {"related": True}, filed_only),
    (1, "complaint", "noise", "desk", {"related": True}, read_by_the_general_manager),
    (1, "repair", "plumbing", "resident", {"home": True, "building": OLD_BUILDING}, repair_paid),
    (1, "repair", "electrical", "desk", {"home": True, "building": OLD_BUILDING}, repair_paid),
    (2, "repair", "leak", "desk", {"home": True, "building": OLD_BUILDING}, repair_rebilled),
    (1, "repair", "door", "desk", {"home": True, "building": OLD_BUILDING}, repair_redone_free),
    (2, "repair", "plumbing", "desk", {"home": True, "building": "3"}, repair_in_warranty),
    (1, "repair", "drainage", "desk", {"home": False}, repair_transferred),
    (1, "repair", "drainage", "desk", {"home": False}, repair_rejected),
    (1, "violation", None, "desk", {"severity": "general"}, violation_general),
    (1, "violation", "fire_safety", "desk", {"severity": "major"}, violation_major),
    (1, "violation", None, "desk", {"severity": "general"}, cancelled),
)


async def _walk(month: Month, body: dict, who: str, scenario, target: str | None) -> None:
    household = body["reporter"]["household_id"]
    resident = token_for(month.stack, "resident", (body["estate_id"],), f"resident-{household}",
                         household=household) if household else None
    if who == "resident":  # a resident files from the app, for their own household
        body["channel"] = "app"
    elif who == "group":  # complaints the group transfers in
        body["channel"] = "group_transfer"
    case = await month.file(body, resident if who == "resident" else who)
    case.resident, case.target = resident, target
    await scenario(case)


async def drive(month: Month) -> None:
    """Anchors first (what merges and repeats point at), then the walks and the untouched bulk at once."""
    rng, anchors = month.rng, {}
    for estate in month.estates:
        anchors[estate] = await asyncio.gather(*(month.file(month.body(estate, kind, backdate=timedelta(0)))
                                                 for kind in ("consultation", "complaint") for _ in range(2)))
    jobs = []
    for estate in month.estates:
        targets = {kind: [c.case_id for c in anchors[estate] if c.body["type"] == kind]
                   for kind in ("consultation", "complaint")}
        for count, kind, category, who, options, scenario in WALKS:
            for n in range(count):
                given = dict(options)
                target = targets["consultation"][n] if given.pop("merge", False) else None
                if given.pop("related", False):
                    given["related_case_id"] = targets["complaint"][n]
                jobs.append(_walk(month, month.body(estate, kind, category, **given), who, scenario, target))
    for estate in month.estates:
        for _ in range(UNTOUCHED_PER_ESTATE):
            kind = rng.choices(*zip(*UNTOUCHED_TYPES))[0]
            jobs.append(month.file(month.body(estate, kind, regular=kind == "complaint" and rng.random() < 0.3)))
    await asyncio.gather(*jobs)


# ---- waiting until the services are done with the month, then reading both sides once ----

_SCOPE = ("SELECT case_id FROM events WHERE event_type = 'CaseReceived' AND stream_id = case_id"
          " AND ($1::text[] IS NULL OR estate_id = ANY($1)) AND (payload->>'received_at')::timestamptz >= $2")
# Each consumer follows a case through the store by global position: analytics applies every
# event, the SLA service every event but its own, dispatch those of the case's own stream.
_BEHIND = (
    "WITH heads AS (SELECT e.case_id, max(e.position) AS head,"
    "  max(e.position) FILTER (WHERE e.producer <> 'sla') AS for_sla,"
    "  max(e.position) FILTER (WHERE e.stream_id = e.case_id) AS for_dispatch"
    f"  FROM events e WHERE e.case_id IN ({_SCOPE}) GROUP BY e.case_id)"
    " SELECT count(*) FROM heads h"
    " LEFT JOIN case_positions a ON a.consumer = 'analytics.case_views' AND a.case_id = h.case_id"
    " LEFT JOIN case_positions s ON s.consumer = 'sla' AND s.case_id = h.case_id"
    " LEFT JOIN case_positions d ON d.consumer = 'dispatch' AND d.case_id = h.case_id"
    " WHERE coalesce(a.position, 0) < h.head OR coalesce(s.position, 0) < h.for_sla"
    " OR coalesce(d.position, 0) < h.for_dispatch")
_DUE_SOON = f"SELECT count(*) FROM sla_cases WHERE next_due_at < $3 AND case_id IN ({_SCOPE})"
_HEAD = f"SELECT coalesce(max(position), 0) FROM events WHERE case_id IN ({_SCOPE})"
_RECEIVED = ("SELECT estate_id, to_char((payload->>'received_at')::timestamptz AT TIME ZONE 'Asia/Shanghai',"
             f" 'YYYY-MM') AS month, count(*) AS n FROM events WHERE case_id IN ({_SCOPE})"
             " AND event_type = 'CaseReceived' GROUP BY 1, 2")


def _month_start(month: str) -> datetime:
    return datetime.strptime(month, "%Y-%m").replace(tzinfo=SHANGHAI)


async def _served(analytics, token: dict, month: str, estate: str | None) -> dict:
    params = {"month": month, **({"estate_id": estate} if estate else {})}
    response = await analytics.get("/v1/stats/monthly", params=params, headers=token)
    assert response.status_code == 200, response.text
    return response.json()


async def _settled(analytics, pool, token: dict, estates: list[str] | None, months: tuple[str, ...]) -> bool:
    """Every service has applied every event of the months' cases, none of their deadlines
    falls due within half a minute, and the served totals are the cases stored."""
    since = _month_start(months[-1])
    async with pool.acquire() as conn:
        if await conn.fetchval(_BEHIND, estates, since) or \
                await conn.fetchval(_DUE_SOON, estates, since, stack_now() + timedelta(seconds=30)):
            return False
        rows = await conn.fetch(_RECEIVED, estates, since)
    for estate in estates or [None]:
        for month in months:
            stored = sum(r["n"] for r in rows if r["month"] == month and estate in (None, r["estate_id"]))
            if (await _served(analytics, token, month, estate))["total"] != stored:
                return False
    return True


async def settled_answers(analytics, pool, token: dict, estates: list[str] | None, months: tuple[str, ...]):
    """The served answers and the stored cases, read while nothing changed in between."""
    since = _month_start(months[-1])
    for _ in range(5):
        await eventually(lambda: _settled(analytics, pool, token, estates, months), timeout=120, interval=0.5,
                         what="the services done with the month")
        async with pool.acquire() as conn:
            head = await conn.fetchval(_HEAD, estates, since)
        served = {(estate, month): await _served(analytics, token, month, estate)
                  for estate in estates or [None] for month in months}
        cases = await stored_cases(pool, estates)
        async with pool.acquire() as conn:
            if await conn.fetchval(_HEAD, estates, since) == head:
                return served, cases
    raise AssertionError("the store kept changing while the month was read")


@dataclass
class Recounted:
    estates: list[str]
    months: tuple[str, ...]  # this month and the last (and the next, had midnight passed meanwhile)
    served: dict
    cases: list
    token: dict
    filed: int


@pytest.fixture(scope="module")
async def recounted(stack, intake, analytics, pool):
    started = time.monotonic()
    admin = token_for(stack, "group_admin", (), "group-admin")
    tag = uuid.uuid4().hex[:5].upper()
    estates = [f"R{tag}{i}" for i in range(1, ESTATES + 1)]
    today = stack_now().astimezone(SHANGHAI).date()
    for estate in estates:
        answer = await intake.put(f"/v1/estates/{estate}", json=_setup(estate, today), headers=admin)
        assert answer.status_code == 200, answer.text
        answer = await intake.put(f"/v1/estates/{estate}/fee-schedule", json={"items": DEMO_FEES}, headers=admin)
        assert answer.status_code == 200, answer.text
    month = Month(stack, intake, estates, seed=2026)
    await drive(month)
    driven = time.monotonic() - started
    began, ended = (moment.astimezone(SHANGHAI).strftime("%Y-%m") for moment in (month.now, stack_now()))
    months = tuple(sorted({ended, began, previous_month(began)}, reverse=True))  # newest first
    token = token_for(stack, "group_admin", (), "group-analyst")
    served, cases = await settled_answers(analytics, pool, token, estates, months)
    print(f"\nrecount month: {month.filed} cases, {month.requests} requests in {driven:.1f}s,"
          f" settled after {time.monotonic() - started:.1f}s")
    return Recounted(estates, months, served, cases, token, month.filed)


async def test_each_estates_figures_are_a_recount_of_its_stored_events(recounted):
    for (estate, month), served in recounted.served.items():
        found = differences(served, report(recounted.cases, month, estate))
        assert not found, f"estate {estate}, {month}:\n" + "\n".join(found)
    assert sum(s["total"] for s in recounted.served.values()) == recounted.filed


async def test_the_group_wide_figures_are_a_recount_of_every_stored_case(recounted, analytics, pool):
    served, cases = await settled_answers(analytics, pool, recounted.token, None, recounted.months)
    for (_, month), answer in served.items():
        found = differences(answer, report(cases, month, None))
        assert not found, f"group-wide, {month}:\n" + "\n".join(found)
    assert sum(c.estate_id in recounted.estates for c in cases) == recounted.filed


async def test_the_month_holds_what_its_figures_must_survive(recounted, pool):
    """What the recount was checked on: it would prove little on a month without these."""
    estates = recounted.estates
    async with pool.acquire() as conn:
        kinds = dict(await conn.fetch(
            "SELECT event_type, count(*) FROM events WHERE estate_id = ANY($1) GROUP BY 1", estates))
        failed = await conn.fetchval(
            "SELECT count(*) FROM events WHERE estate_id = ANY($1) AND event_type = 'InspectionRecorded'"
            " AND NOT (payload->>'passed')::boolean", estates)
        second_clocks = await conn.fetchval(
            "SELECT count(*) FROM events WHERE estate_id = ANY($1) AND event_type = 'SlaMet'"
            " AND payload->>'obligation_id' LIKE '%/complaint_completed/2'", estates)
        paused_after_breach = await conn.fetchval(
            "SELECT count(*) FROM events p JOIN events b ON b.case_id = p.case_id AND b.event_type = 'SlaBreached'"
            " AND b.payload->>'obligation_id' = p.payload->>'obligation_id'"
            " WHERE p.estate_id = ANY($1) AND p.event_type = 'SlaClockPaused'", estates)
        voided = await conn.fetchval(
            "SELECT count(*) FROM events WHERE estate_id = ANY($1) AND event_type = 'ChargeVoided'", estates)
        breached_rules = {r[0] for r in await conn.fetch(
            "SELECT DISTINCT payload->>'rule' FROM events WHERE estate_id = ANY($1) AND event_type = 'SlaBreached'",
            estates)}
        levels = {r[0] for r in await conn.fetch(
            "SELECT DISTINCT payload->>'level' FROM events WHERE estate_id = ANY($1)"
            " AND event_type = 'EscalationRaised'", estates)}
    mine = [c for c in recounted.cases if c.estate_id in estates]
    assert {c.received["type"] for c in mine} == {"consultation", "suggestion", "help", "complaint", "repair",
                                                 "violation"}
    assert {c.received["channel"] for c in mine} == {"phone", "walk_in", "app", "patrol", "group_transfer"}
    for kind in ("CaseReplied", "CaseReferredToSupervisor", "CaseCancelled", "CaseMerged", "CaseTransferred",
                 "CaseRejected", "DispatchFailed", "WorkPaused", "CaseReopened", "ReturnVisitRecorded",
                 "CaseArchived", "RepeatComplaintDetected", "ProgressNoted", "ViolationPenaltyRecorded",
                 "GroupComplaintResultReported", "MailboxItemAcknowledged"):
        assert kinds.get(kind, 0) >= ESTATES, kind
    assert failed >= 3 * ESTATES and second_clocks >= 3 * ESTATES and voided >= 2 * ESTATES
    assert paused_after_breach >= ESTATES  # a breach stays a breach through a pause after it
    assert breached_rules >= {"engineering_notified", "help_replied", "complaint_completed", "group_progress_reported"}
    assert levels >= {"1", "2", "3"}
    assert sum(1 for c in mine if c.bills) >= 6 * ESTATES
    assert any(c.visits[:1] == ["dissatisfied"] for c in mine)
