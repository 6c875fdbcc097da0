"""Duplicate merging on the running stack, through a second intake replica with merging turned on
(the stack's own replica leaves it off): the duplicate follows the original's status, and an
operator can undo the merge so it is dispatched on its own."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import IO, Any

import httpx
import pytest

from shared.embedded import free_port
from tests.e2e.polling import eventually
from tests.e2e.test_intake_api import create_complaint, resolve_by_department, status_is

pytestmark = pytest.mark.e2e


def start_intake(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "services.cli", "serve", "intake"]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
async def merging_intake(stack, infra) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": infra.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
            "INTAKE_PORT": str(port),
            "INTAKE_REGISTRY_URL": stack.urls["registry"],
            "INTAKE_REGISTRY_CLIENT_ID": "viewer",
            "INTAKE_REGISTRY_CLIENT_SECRET": "demo-viewer-secret",
            "INTAKE_PII_KEYS": f'["{(stack.log_dir / "pii.key").read_text().strip()}"]',
            "INTAKE_MERGE_DISTANCE_METERS": "50",
            "INTAKE_MERGE_WINDOW_HOURS": "1",
        }
    )
    log = (stack.log_dir / "intake-merging.log").open("ab")
    proc = start_intake(env, log)
    url = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{url}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await eventually(ready, seconds=60)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 15)
        log.close()


def merge_point(half: int) -> dict[str, float]:
    """A point in community s1-02, where no other test files complaints (nothing else to merge into);
    each test takes its own half of it, more than 50 m from the other's."""
    low = 39.9005 + half * 0.005
    return {
        "lat": round(random.uniform(low, low + 0.004), 6),
        "lon": round(random.uniform(116.4105, 116.4195), 6),
    }


def client(stack, url: str, as_client: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {stack.token(as_client)}"}
    )


async def test_a_near_duplicate_is_merged_and_follows_the_original(stack, merging_intake) -> None:  # type: ignore[no-untyped-def]
    point = merge_point(0)
    near = {"lat": point["lat"] + 0.0001, "lon": point["lon"]}  # about 11 m away
    async with client(stack, merging_intake, "hotline") as intake:
        original = (await intake.post("/v1/complaints", json=create_complaint(location=point))).json()
        duplicate = (await intake.post("/v1/complaints", json=create_complaint(location=near))).json()
        assert duplicate["merged_into"] == original["id"]
        assert (await intake.get(f"/v1/complaints/{original['id']}")).json()["reporter_count"] == 2
        await resolve_by_department(stack, original["id"])
        await eventually(lambda: status_is(intake, duplicate["id"], "resolved"))
        timeline = (await intake.get(f"/v1/complaints/{duplicate['id']}/timeline")).json()
        assert [t["status"] for t in timeline][-1] == "resolved"
        # Its own resident is called back too; satisfied closes just this one.
        closed = await intake.post(
            f"/v1/complaints/{duplicate['id']}/feedback", json={"resolved": True, "satisfaction": "satisfied"}
        )
        assert closed.json()["status"] == "closed"
        assert await status_is(intake, original["id"], "resolved")


async def test_an_operator_undoes_a_merge_and_the_complaint_is_dispatched_alone(
    stack, merging_intake
) -> None:  # type: ignore[no-untyped-def]
    point = merge_point(1)
    async with (
        client(stack, merging_intake, "hotline") as intake,
        client(stack, merging_intake, "admin") as admin,
    ):
        original = (await intake.post("/v1/complaints", json=create_complaint(location=point))).json()
        duplicate: dict[str, Any] = (
            await intake.post("/v1/complaints", json=create_complaint(location=point))
        ).json()
        assert duplicate["merged_into"] == original["id"]
        assert (await intake.post(f"/v1/complaints/{duplicate['id']}/unmerge")).status_code == 403
        undone = await admin.post(f"/v1/complaints/{duplicate['id']}/unmerge")
        assert undone.status_code == 200 and undone.json()["merged_into"] is None
        assert (await intake.get(f"/v1/complaints/{original['id']}")).json()["reporter_count"] == 1
        async with stack.client("dispatch", as_client="viewer") as dispatch:

            async def own_whistle() -> list[Any]:
                return (await dispatch.get("/v1/whistles", params={"complaint_id": duplicate["id"]})).json()

            assert await eventually(own_whistle)
