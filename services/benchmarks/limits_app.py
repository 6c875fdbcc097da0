"""The raw limit's server: what FastAPI on uvicorn does for intake's `POST /v1/complaints` with
nothing of intake behind it — the same body model (`services.intake.schemas.ComplaintIn`, every
field validated), the same server settings as `whistle serve` — and, with `LIMITS_DATABASE_URL`
set, the same plus one committed transaction inserting a complaint row and an outbox row with
asyncpg (no ORM, no routing, no events). `whistle bench` drives it as it drives intake.

    LIMITS_PORT=9000 [LIMITS_DATABASE_URL=postgresql://…] python -m services.benchmarks.limits_app
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from services.intake.schemas import ComplaintIn

SCHEMA = "bench_limits"
TABLES = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.complaints (
    id uuid PRIMARY KEY, source text NOT NULL, source_ref text, category text NOT NULL,
    community_code text, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {SCHEMA}.outbox (
    id bigserial PRIMARY KEY, topic text NOT NULL, key text NOT NULL, value bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz);
"""
INSERT_COMPLAINT = (
    f"INSERT INTO {SCHEMA}.complaints (id, source, source_ref, category, community_code, body) "
    "VALUES ($1, $2, $3, $4, $5, $6)"
)
INSERT_OUTBOX = f"INSERT INTO {SCHEMA}.outbox (topic, key, value) VALUES ($1, $2, $3)"


def plain_dsn(database_url: str) -> str:
    """asyncpg's DSN for a SQLAlchemy URL (`postgresql+asyncpg://` → `postgresql://`)."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def build_app(database_url: str | None) -> FastAPI:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        if database_url:
            pool = await asyncpg.create_pool(plain_dsn(database_url), min_size=10, max_size=10)
            async with pool.acquire() as conn:
                await conn.execute(TABLES)
        yield
        if pool is not None:
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/complaints", status_code=201)
    async def file(body: ComplaintIn) -> Response:
        complaint_id = uuid.uuid4()
        if pool is not None:
            raw = body.model_dump_json()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    INSERT_COMPLAINT,
                    complaint_id,
                    body.source,
                    body.source_ref,
                    body.category,
                    body.location.community_code,
                    raw,
                )
                await conn.execute(INSERT_OUTBOX, "intake.complaints", str(complaint_id), raw.encode())
        answer = orjson.dumps({"id": str(complaint_id), "status": "received"})
        return Response(answer, status_code=201, media_type="application/json")

    return app


def main() -> None:
    port = int(os.environ["LIMITS_PORT"])
    app = build_app(os.environ.get("LIMITS_DATABASE_URL") or None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
