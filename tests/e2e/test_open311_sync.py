"""A busy hour synced completely: 2,500 requests filed within one hour are all found by a client
that searches the hour and follows `updated_datetime` from the last item, as discovery tells it
(each answer holds at most 1,000, oldest change first). Dispatch changes the requests while the
client reads: a request changed after it was read comes again later, none is lost."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import httpx
import pytest

from tests.e2e.polling import eventually
from tests.e2e.test_intake_api import random_point

pytestmark = pytest.mark.e2e

BASE = "/open311/v2"
BUSY_HOUR = 2_500
CAP = 1_000
SETTLE = 5  # INTAKE_OPEN311_SETTLE_SECONDS, the default


async def file_many(client: httpx.AsyncClient, api_key: str, count: int) -> set[str]:
    gate = asyncio.Semaphore(16)

    async def one(i: int) -> str:
        point = random_point()
        form = {
            "api_key": api_key,
            "service_code": "garbage_piling",
            "lat": str(point["lat"]),
            "long": str(point["lon"]),
            "description": f"垃圾堆放 #{i}",
        }
        async with gate:
            filed = await client.post(f"{BASE}/requests.json", data=form)
        assert filed.status_code == 201, filed.text
        return str(filed.json()[0]["service_request_id"])

    return set(await asyncio.gather(*(one(i) for i in range(count))))


async def all_deadlined(client: httpx.AsyncClient, api_key: str, ids: list[str]) -> bool:
    """Whether every request has its resolve deadline (dispatched, and its clock started)."""
    for chunk in (ids[i : i + CAP] for i in range(0, len(ids), CAP)):
        found = await client.get(
            f"{BASE}/requests.json", params={"api_key": api_key, "service_request_id": ",".join(chunk)}
        )
        if not all(r["expected_datetime"] for r in found.json()):
            return False
    return True


@pytest.mark.timeout(600)
async def test_a_busy_hour_is_fetched_completely_by_following_updated_datetime(stack) -> None:  # type: ignore[no-untyped-def]
    api_key = stack.api_key("hotline")
    hour_start = datetime.now().astimezone().replace(microsecond=0) - timedelta(seconds=1)
    hour_end = hour_start + timedelta(hours=1)
    async with httpx.AsyncClient(base_url=stack.urls["intake"], timeout=30) as client:
        filed = await file_many(client, api_key, BUSY_HOUR)
        # The site syncs after the rush, once dispatch and SLA have had their say (each moves a
        # request's updated_datetime) and the last change has settled.
        await eventually(lambda: all_deadlined(client, api_key, sorted(filed)), seconds=240)
        await asyncio.sleep(SETTLE + 1)
        seen: set[str] = set()
        pages: list[int] = []
        since = hour_start.isoformat()
        last_moment = hour_start
        deadline = time.monotonic() + 240
        while not filed <= seen:
            assert time.monotonic() < deadline, f"{len(filed - seen)} of the busy hour never came"
            answer = await client.get(
                f"{BASE}/requests.json",
                params={"api_key": api_key, "start_date": since, "end_date": hour_end.isoformat()},
            )
            assert answer.status_code == 200, answer.text
            page = answer.json()
            pages.append(len(page))
            moments = [datetime.fromisoformat(r["updated_datetime"]) for r in page]
            assert moments == sorted(moments) and (not moments or moments[0] >= last_moment)
            seen.update(r["service_request_id"] for r in page)
            if page:
                since, last_moment = page[-1]["updated_datetime"], moments[-1]
            if len(page) < CAP:
                await asyncio.sleep(1)  # caught up with the settle horizon: a sync runs again later
    # One answer holds 1,000 of them: a client that does not follow misses the rest of the hour.
    assert pages[0] == CAP and max(pages) == CAP and sum(pages) >= BUSY_HOUR and len(pages) >= 3
