"""Service request updates on the running stack, driven as a FixMyStreet-style site's Open311 client
drives them: reports sent as forms, updates fetched as XML for a date window with the api_key in the
query string, residents' updates posted as forms with the api_key in the body."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.polling import eventually
from tests.e2e.test_intake_api import random_point, resolve_by_department, status_is

pytestmark = pytest.mark.e2e

BASE = "/open311/v2"
W3C = "%Y-%m-%dT%H:%M:%S%z"


def w3c(moment: datetime) -> str:
    """A W3C-DTF datetime with whole seconds, as such clients write them (`…T09:00:00+08:00`)."""
    text = moment.strftime(W3C)
    return f"{text[:-2]}:{text[-2:]}"


class SiteClient:
    """What a FixMyStreet-style site's Open311 client sends and reads."""

    def __init__(self, stack, api_key: str) -> None:  # type: ignore[no-untyped-def]
        self.http = httpx.AsyncClient(base_url=stack.urls["intake"], timeout=10)
        self.api_key = api_key

    async def send_report(self, service_code: str = "illegal_construction") -> str:
        point = random_point()
        form = {
            "api_key": self.api_key,
            "jurisdiction_id": "tiny",
            "service_code": service_code,
            "lat": str(point["lat"]),
            "long": str(point["lon"]),
            "description": "小区里有人私搭乱建",
            "first_name": "红",
            "last_name": "李",
            "email": "lh@example.cn",
        }
        sent = await self.http.post(f"{BASE}/requests.xml", data=form)
        assert sent.status_code == 201, sent.text
        request_id = ET.fromstring(sent.content).findtext("request/service_request_id")
        assert request_id
        return request_id

    async def fetch_updates(self, start: datetime, end: datetime) -> list[dict[str, str | None]]:
        """Every update of the window: at most 1,000 come per answer, so resume from the last one's
        `updated_datetime` (as given) and skip the update ids already seen, as discovery says."""
        seen: dict[str, dict[str, str | None]] = {}
        since = w3c(start)
        while True:
            params = {
                "api_key": self.api_key,
                "jurisdiction_id": "tiny",
                "start_date": since,
                "end_date": w3c(end),
            }
            answer = await self.http.get(f"{BASE}/servicerequestupdates.xml", params=params)
            assert answer.status_code == 200, answer.text
            root = ET.fromstring(answer.content)
            assert root.tag == "service_request_updates"
            page = [{field.tag: field.text for field in update} for update in root.findall("request_update")]
            for update in page:
                seen.setdefault(str(update["update_id"]), update)
            if len(page) < 1000:
                return list(seen.values())
            since = str(page[-1]["updated_datetime"])

    async def post_update(
        self, request_id: str, update_id: str, status: str, description: str
    ) -> httpx.Response:
        form = {
            "api_key": self.api_key,
            "jurisdiction_id": "tiny",
            "service_code": "illegal_construction",
            "service_request_id": request_id,
            "update_id": update_id,
            "updated_datetime": w3c(datetime.now().astimezone()),
            "status": status,
            "description": description,
            "first_name": "红",
            "last_name": "李",
            "email": "lh@example.cn",
            "media_url": "",
        }
        return await self.http.post(f"{BASE}/servicerequestupdates.xml", data=form)


@pytest.fixture
async def site(stack):  # type: ignore[no-untyped-def]
    client = SiteClient(stack, stack.api_key("hotline"))
    yield client
    await client.http.aclose()


def window() -> tuple[datetime, datetime]:
    start = datetime.now().astimezone().replace(microsecond=0) - timedelta(seconds=1)
    return start, start + timedelta(hours=1)


async def updates_of(
    site: SiteClient, request_id: str, start: datetime, end: datetime, n: int
) -> list[dict[str, Any]]:
    """The request's updates once `n` of them have settled."""

    async def settled() -> list[dict[str, Any]]:
        found = [u for u in await site.fetch_updates(start, end) if u["service_request_id"] == request_id]
        return found if len(found) >= n else []

    return list(await eventually(settled, seconds=60))


async def follow_up(stack, request_id: str, *, satisfied: bool) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = {"resolved": satisfied, "satisfaction": "satisfied" if satisfied else "unsatisfied"}
    async with stack.client("intake", as_client="hotline") as intake:
        await eventually(lambda: status_is(intake, request_id, "resolved"))
        done = await intake.post(f"/v1/complaints/{request_id}/feedback", json=body)
        assert done.status_code == 200, done.text
        return dict(done.json())


async def test_a_report_sent_dispatched_signed_off_resolved_and_followed_up_yields_its_updates_in_order(
    stack, site: SiteClient
) -> None:  # type: ignore[no-untyped-def]
    start, end = window()
    request_id = await site.send_report()
    await resolve_by_department(stack, request_id)
    assert (await follow_up(stack, request_id, satisfied=True))["status"] == "closed"

    updates = await updates_of(site, request_id, start, end, 4)
    assert [u["status"] for u in updates] == ["ACTION_SCHEDULED", "IN_PROGRESS", "FIXED", "CLOSED"]
    assert [u["external_status_code"] for u in updates] == [
        "dispatched",
        "signed_off",
        "resolved:resolved",
        "closed",
    ]
    assert [u["description"] for u in updates] == [
        "已派至东区住建委办理",
        "东区住建委已签收，正在办理",
        "东区住建委已办结，等待回访",
        "回访完毕，诉求已办结",
    ]  # what the resident is told: never the department's own note ("已拆除")
    ids = [int(str(u["update_id"])) for u in updates]
    assert ids == sorted(ids)
    times = [datetime.fromisoformat(str(u["updated_datetime"])) for u in updates]
    assert times == sorted(times) and all(start <= t <= end for t in times)
    again = [u for u in await site.fetch_updates(start, end) if u["service_request_id"] == request_id]
    assert again == updates  # stable: the same ids, the same order, every time


async def test_a_reopen_request_from_the_site_reaches_the_hotlines_follow_up_and_is_applied_once(
    stack, site: SiteClient
) -> None:  # type: ignore[no-untyped-def]
    start, end = window()
    request_id = await site.send_report()
    await resolve_by_department(stack, request_id)
    async with stack.client("intake", as_client="hotline") as intake:
        await eventually(lambda: status_is(intake, request_id, "resolved"))
    fms_id = f"fms-{uuid.uuid4().hex[:8]}"
    sent = await site.post_update(request_id, fms_id, "OPEN", "根本没修，垃圾还在 😡")
    assert sent.status_code == 201, sent.text
    update_id = ET.fromstring(sent.content).findtext("request_update/update_id")
    replayed = await site.post_update(request_id, fms_id, "OPEN", "根本没修，垃圾还在 😡")
    assert (
        replayed.status_code == 200
        and ET.fromstring(replayed.content).findtext("request_update/update_id") == update_id
    )

    async with stack.client("intake", as_client="hotline") as intake:
        complaint = (await intake.get(f"/v1/complaints/{request_id}")).json()
        assert complaint["status"] == "resolved" and complaint["followup_requested"]  # not reopened by itself
        waiting = (
            await intake.get("/v1/complaints", params={"followup_requested": "true", "limit": 200})
        ).json()
        assert request_id in [c["id"] for c in waiting["items"]]
        [update] = (await intake.get(f"/v1/complaints/{request_id}/resident-updates")).json()  # once
        assert (update["update_id"], update["says"], update["description"]) == (
            update_id,
            "not_fixed",
            "根本没修，垃圾还在 😡",
        )
        assert update["email"] != "lh@example.cn" and update["followup_requested"]
    reopened = await follow_up(stack, request_id, satisfied=False)
    assert reopened["status"] == "reopened"
    async with stack.client("intake", as_client="hotline") as intake:
        assert not (await intake.get(f"/v1/complaints/{request_id}")).json()["followup_requested"]

    updates = await updates_of(site, request_id, start, end, 4)
    assert [u["status"] for u in updates][:4] == ["ACTION_SCHEDULED", "IN_PROGRESS", "FIXED", "REOPEN"]
    assert update_id not in [u["update_id"] for u in updates]  # the site's own update is not echoed back


async def test_updates_of_a_request_the_city_does_not_have_or_without_a_key_are_refused(
    stack, site: SiteClient
) -> None:  # type: ignore[no-untyped-def]
    missing = await site.post_update(str(uuid.uuid4()), "fms-x", "OPEN", "?")
    assert missing.status_code == 404 and ET.fromstring(missing.content).findtext("error/code") == "404"
    site.api_key = ""
    keyless = await site.post_update(str(uuid.uuid4()), "fms-y", "OPEN", "?")
    assert keyless.status_code == 403 and ET.fromstring(keyless.content).tag == "errors"
    incomplete = await site.http.post(
        f"{BASE}/servicerequestupdates.json", data={"api_key": stack.api_key("hotline"), "status": "OPEN"}
    )
    assert incomplete.status_code == 400
    assert {e["description"] for e in incomplete.json()} == {
        "service_request_id is required",
        "update_id is required",
    }
