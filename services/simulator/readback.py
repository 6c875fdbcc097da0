"""The services' own view of a run, read from their APIs once it is over: intake's complaints,
dispatch's whistles (with their assignments and escalations) and extension requests, SLA's
clocks, evaluations and scores, and dispatch's count of claims."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from services.simulator.api import Api, counter_total
from services.simulator.summary import Readback
from services.sla.periods import period_of

CLAIMED_METRIC = "whistle_dispatch_claimed_assignments_total"
READERS = 12
RECORDING_LAG_SECONDS = 5.0
"""How long after an instant the services are given to have recorded what they timestamp at it."""


async def claimed_so_far(api: Api) -> float:
    return counter_total(await api.metrics("dispatch"), CLAIMED_METRIC)


async def complaints_since(api: Api, since: datetime, ours: Collection[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"created_from": since.isoformat(), "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = await api.need("intake", "hotline", "GET", "/v1/complaints", params=params)
        found.update({c["id"]: c for c in page["items"] if c["id"] in ours})
        cursor = page.get("next_cursor")
        if not cursor:
            return found


async def whistles_since(
    api: Api, since: datetime, districts: Collection[str], complaints: Collection[str]
) -> list[dict[str, Any]]:
    """Every whistle of the districts issued since `since` for one of `complaints` (newest first)."""
    found: list[dict[str, Any]] = []
    for district in sorted(districts):
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = await api.need(
                "dispatch", "viewer", "GET", f"/v1/districts/{district}/whistles", params=params
            )
            items = page["items"]
            found.extend(w for w in items if w["complaint_id"] in complaints)
            cursor = page.get("next_cursor")
            if not cursor or not items or datetime.fromisoformat(items[-1]["issued_at"]) < since:
                break
    return found


async def extensions_of(
    api: Api, districts: Collection[str], complaints: Collection[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for district in sorted(districts):
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {
                "district": district,
                "status": ["pending", "approved", "rejected"],
                "limit": 500,
            }
            if cursor:
                params["cursor"] = cursor
            page = await api.need("dispatch", "viewer", "GET", "/v1/extensions", params=params)
            found.extend(e for e in page["items"] if e["complaint_id"] in complaints)
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return found


async def clocks_of(api: Api, complaints: Collection[str]) -> list[dict[str, Any]]:
    gate = asyncio.Semaphore(READERS)

    async def read(complaint_id: str) -> list[dict[str, Any]]:
        async with gate:
            return list(
                await api.need("sla", "viewer", "GET", "/v1/clocks", params={"complaint_id": complaint_id})
            )

    pages = await asyncio.gather(*(read(c) for c in sorted(complaints)))
    return [clock for page in pages for clock in page]


async def evaluations_since(api: Api, since: datetime, streets: Collection[str]) -> list[dict[str, Any]]:
    period = str(period_of(datetime.now(UTC)))
    found = await api.need("sla", "viewer", "GET", "/v1/evaluations", params={"period": period})
    by = {f"street-{s}" for s in streets}
    return [e for e in found if e["evaluated_by"] in by and datetime.fromisoformat(e["updated_at"]) >= since]


async def read_back(
    api: Api,
    *,
    since: datetime,
    complaints: Collection[str],
    street_whistles: Collection[str],
    districts: Collection[str],
    streets: Collection[str],
    claimed_before: float,
    read_at: datetime,
) -> Readback:
    """What the services hold, counted up to `read_at` (read a while after it, so whatever they
    timestamped by then has been recorded)."""
    await asyncio.sleep(max(0.0, (read_at - datetime.now(UTC)).total_seconds() + RECORDING_LAG_SECONDS))
    every = set(complaints) | set(street_whistles)
    held, whistles, extensions, evaluations, claimed, scores = await asyncio.gather(
        complaints_since(api, since, set(complaints)),
        whistles_since(api, since, districts, every),
        extensions_of(api, districts, every),
        evaluations_since(api, since, streets),
        claimed_so_far(api),
        api.need("sla", "viewer", "GET", "/v1/scores", params={"level": "agency"}),
    )
    clocks = await clocks_of(api, every)
    return Readback(
        read_at=read_at,
        started_at=since,
        complaints=held,
        whistles=whistles,
        clocks=clocks,
        extensions=extensions,
        evaluations=evaluations,
        claimed=claimed - claimed_before,
        scores=list(scores["items"]),
    )
