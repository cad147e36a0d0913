"""The demo group of SPEC §5 "Identity": estates E001 and E002, fully staffed, each with a
fee schedule for paid work; no cases."""
from __future__ import annotations

from estatedesk.contracts.events import EstateConfigured


def staffed_estate(name: str, prefix: str, buildings: int) -> EstateConfigured:
    """An estate with buildings handed over in mid-2022, two grids with butlers and staff everywhere."""
    return EstateConfigured(
        name=name,
        timezone="Asia/Shanghai",
        buildings=[
            {"id": str(b), "name": f"Building {b}", "handover_date": "2022-06-30",
             "units": [{"id": str(u), "rooms": [f"{floor:02d}0{r}" for floor in range(1, 19) for r in (1, 2)]}
                       for u in (1, 2)]}
            for b in range(1, buildings + 1)
        ],
        grids=[
            {"id": f"{prefix}-G1", "butler": f"{prefix.lower()}-butler-li",
             "buildings": [str(b) for b in range(1, buildings // 2 + 1)]},
            {"id": f"{prefix}-G2", "butler": f"{prefix.lower()}-butler-wang",
             "buildings": [str(b) for b in range(buildings // 2 + 1, buildings + 1)] + ["public"]},
        ],
        staff={
            "customer_service": [f"{prefix.lower()}-desk-zhao", f"{prefix.lower()}-supervisor-qian"],
            "engineering": [f"{prefix.lower()}-eng-sun", f"{prefix.lower()}-eng-zhou"],
            "security": [f"{prefix.lower()}-sec-wu", f"{prefix.lower()}-sec-zheng", f"{prefix.lower()}-sec-feng"],
            "cleaning": [f"{prefix.lower()}-clean-chen"],
            "greening": [f"{prefix.lower()}-green-chu"],
            "estate_manager": [f"{prefix.lower()}-manager-wei"],
        },
    )


DEMO_ESTATES: dict[str, EstateConfigured] = {
    "E001": staffed_estate("Riverside Garden 滨江花园", "E001", 6),
    "E002": staffed_estate("Lakeview Court 湖景苑", "E002", 4),
}


DEMO_FEES: list[dict] = [  # what a paid repair or paid help is priced by (003 §4.9)
    {"code": "PL-TRAP", "name": "Kitchen P-trap 厨房存水弯", "unit": "piece", "price_fen": 3500},
    {"code": "PL-SEAL", "name": "Pipe seal 管道密封圈", "unit": "piece", "price_fen": 800},
    {"code": "PL-WASHER", "name": "Tap washer 水龙头垫片", "unit": "piece", "price_fen": 150},
    {"code": "EL-SOCKET", "name": "Wall socket 墙壁插座", "unit": "piece", "price_fen": 2500},
    {"code": "LABOUR-H", "name": "Craftsman's labour 维修工时", "unit": "hour", "price_fen": 5000},
    {"code": "PORTER-H", "name": "Porter 搬运服务", "unit": "hour", "price_fen": 5000},
]


async def seed_demo(store, clock) -> list[str]:
    """Configure the demo estates that do not exist yet; returns the ids configured now."""
    from services.intake.estates import configure_estate, load_estate
    from services.intake.fee_schedule import set_fee_schedule

    seeded = []
    for estate_id, config in DEMO_ESTATES.items():
        if await load_estate(store, estate_id) is None:
            await configure_estate(store, estate_id, config, actor="demo-seed", clock=clock)
            await set_fee_schedule(store, estate_id, DEMO_FEES, actor="demo-seed", clock=clock)
            seeded.append(estate_id)
    return seeded


async def seed_for_dev(pool, clock, *, demo: bool) -> tuple[list[str], list[dict]]:
    """What `estatedesk dev` seeds: with ESTATEDESK_DEMO the demo estates (no cases) and the
    demo console accounts; without it nothing at all. Returns (estates configured now, accounts)."""
    if not demo:
        return [], []
    from estatedesk.eventstore import EventStore
    from services.console.auth.demo import seed_demo_accounts

    return await seed_demo(EventStore(pool), clock), await seed_demo_accounts(pool)
