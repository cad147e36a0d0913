"""Demo accounts for `estatedesk dev` (ESTATEDESK_DEMO): one per role and estate, named like the
demo estates' staff so that dispatch's assignees can sign in and find their work."""
from __future__ import annotations

import asyncpg

from estatedesk.demo import DEMO_ESTATES

from .accounts import add_account

DEMO_PASSWORD = "demo1234"


def demo_accounts() -> list[dict]:
    """(user_id, display name, role, estates, department) of every demo account."""
    out = []
    for estate_id, config in DEMO_ESTATES.items():
        staff = config.staff
        p = estate_id.lower()
        first = lambda dept: (staff.get(dept) or [f"{p}-{dept}"])[0]
        out += [
            {"user_id": f"{p}-desk-zhao", "role": "front_desk", "department": "customer_service"},
            {"user_id": f"{p}-supervisor-qian", "role": "supervisor", "department": "customer_service"},
            {"user_id": config.grids[0]["butler"], "role": "butler", "department": "customer_service"},
            {"user_id": first("engineering"), "role": "department_staff", "department": "engineering"},
            {"user_id": staff["engineering"][1], "role": "department_head", "department": "engineering"},
            {"user_id": first("security"), "role": "department_staff", "department": "security"},
            {"user_id": first("cleaning"), "role": "department_staff", "department": "cleaning"},
            {"user_id": first("greening"), "role": "department_staff", "department": "greening"},
            {"user_id": first("estate_manager"), "role": "estate_manager", "department": None},
            {"user_id": f"{p}-gm-he", "role": "general_manager", "department": None},
        ]
        for account in out[-10:]:
            account["estates"] = [estate_id]
    out += [{"user_id": "group-center-lin", "role": "group_service_center", "department": None, "estates": []},
            {"user_id": "group-admin", "role": "group_admin", "department": None, "estates": []}]
    for account in out:
        account["display_name"] = account["user_id"]
        account["email"] = f"{account['user_id']}@demo.estatedesk.invalid"
    return out


async def seed_demo_accounts(pool: asyncpg.Pool, password: str = DEMO_PASSWORD) -> list[dict]:
    """Create the demo accounts that do not exist yet; returns every demo account."""
    accounts = demo_accounts()
    for a in accounts:
        await add_account(pool, password=password, **a)
    return accounts
