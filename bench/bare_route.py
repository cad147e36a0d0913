"""The yardstick for intake's accept rate: a bare FastAPI route that validates the same case
body with the same pydantic model and does one asyncpg INSERT, nothing else (no token, no
event store, no outbox, no idempotency). `bench/e2e.py` runs it beside the stack, on the same
PostgreSQL, so both are measured under the same conditions.

    python -m bench.bare_route --port 8099 --dsn postgresql://postgres@127.0.0.1:5432/bench
"""
from __future__ import annotations

import argparse
import uuid
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from fastapi import FastAPI, Request

from services.intake.schemas import CaseIn


def create_app(dsn: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        async with app.state.pool.acquire() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS bare_cases (case_id uuid PRIMARY KEY, body jsonb NOT NULL)")
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/cases", status_code=201)
    async def post_case(case: CaseIn, request: Request) -> dict:
        case_id = uuid.uuid4()
        async with request.app.state.pool.acquire() as conn:
            await conn.execute("INSERT INTO bare_cases (case_id, body) VALUES ($1, $2)", case_id,
                               case.model_dump_json())
        return {"case_id": str(case_id)}

    @app.get("/readyz")
    async def ready() -> dict:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.dsn), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
