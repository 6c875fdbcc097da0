"""The whole stack rides out its database going away: PostgreSQL restarted with `-m immediate` while
complaints flow loses none that was accepted, dead-letters nothing and issues no whistle twice; the
local stack (`whistle up`) neither exits nor restarts PostgreSQL when an operator restarts it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local_stack import LocalStack, StackConfig
from services.registry.seeding import seed_file
from shared.dlq import read_dead_letters
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port, remove_tree
from shared.events import ALL_TOPICS
from tests.conftest import TINY_CITY
from tests.e2e.conftest import Stack
from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def complaint(ref: str) -> dict[str, Any]:
    """A complaint in the tiny test city."""
    return {
        "source": "hotline",
        "source_ref": ref,
        "category": "illegal_construction",
        "description": "楼顶私搭乱建",
        "location": {"lat": 39.905, "lon": 116.405},
        "reporter": {"name": "张三", "phone": "13800138000"},
    }


def demo_complaint(ref: str) -> dict[str, Any]:
    """The README's complaint, in the demo city."""
    return {
        "source": "hotline",
        "source_ref": ref,
        "category": "illegal_construction",
        "description": "楼顶私搭乱建",
        "location": {"community_code": "dc-andingmen-01"},
        "attributes": {"location_detail": "3号楼楼顶", "stage": "building"},
        "reporter": {"name": "张三", "phone": "13800138000"},
    }


def free_base_port() -> int:
    """A port B with B+1 … B+4 free (the stack's four services)."""
    import random
    import socket

    for _ in range(200):
        base = random.randrange(20000, 60000, 10)
        try:
            for offset in range(1, 5):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError("no four free ports in a row")


@pytest.fixture
async def durable_stack() -> AsyncIterator[tuple[Stack, EmbeddedPostgres, EmbeddedBroker]]:
    """The four services on a PostgreSQL (durable, as in production) and a broker of their own."""
    home = Path(tempfile.mkdtemp(prefix="whistle-faults-"))
    postgres = EmbeddedPostgres(home / "pgdata", port=free_port(), log_to=(home / "postgres.log").open("ab"))
    broker = EmbeddedBroker(port=free_port(), log_to=(home / "broker.log").open("ab"))
    postgres.start()
    broker.start()
    ports = {s: free_port() for s in ("registry", "intake", "dispatch", "sla")}
    local = LocalStack(
        StackConfig(
            home=home,
            ports=ports,
            seed=False,
            database_url=postgres.url(),
            bootstrap_servers=broker.bootstrap_servers,
            log_dir=home,
        )
    )
    stack = Stack({s: f"http://127.0.0.1:{p}" for s, p in ports.items()}, home)
    try:
        await local.prepare()
        await seed_file(postgres.url(), TINY_CITY)
        local.start_services()
        await local.wait_healthy(within=90)
        yield stack, postgres, broker
    finally:
        await asyncio.to_thread(local.stop)
        broker.stop()
        postgres.stop()
        remove_tree(home)


async def test_postgres_restarted_immediately_under_load_loses_no_accepted_complaint(durable_stack) -> None:  # type: ignore[no-untyped-def]
    stack, postgres, broker = durable_stack
    accepted: dict[str, str] = {}  # source_ref -> complaint id
    refused: list[int | str] = []
    stop = asyncio.Event()

    async def hotline() -> None:
        async with stack.client("intake", as_client="hotline") as intake:
            n = 0
            while not stop.is_set():
                n += 1
                ref = f"fault-{uuid.uuid4().hex[:10]}"
                try:
                    response = await intake.post("/v1/complaints", json=complaint(ref), timeout=5)
                    if response.status_code == 201:
                        accepted[ref] = response.json()["id"]
                    else:
                        refused.append(response.status_code)
                except httpx.HTTPError as exc:
                    refused.append(type(exc).__name__)
                await asyncio.sleep(0.05)

    load = asyncio.create_task(hotline())
    await asyncio.sleep(4)
    before = len(accepted)
    await asyncio.to_thread(postgres.crash)  # kill -9 of the whole server, no checkpoint
    await asyncio.sleep(3)
    await asyncio.to_thread(postgres.start)  # crash recovery
    await asyncio.sleep(6)
    stop.set()
    await load
    assert before > 10 and len(accepted) > before  # complaints flowed before and after the restart
    assert refused  # and some were refused while the database was down (503, or cut off) …
    # … never with a 500 or a success: nothing was half-stored
    assert set(refused) <= {503, "ReadTimeout", "ConnectError", "RemoteProtocolError"}, refused

    async with stack.client("dispatch", as_client="viewer") as dispatch:

        async def whistles_of(complaint_id: str) -> list[dict[str, Any]]:
            return (await dispatch.get("/v1/whistles", params={"complaint_id": complaint_id})).json()

        async def all_dispatched() -> bool:
            counts = await asyncio.gather(*(whistles_of(cid) for cid in accepted.values()))
            return all(len(c) >= 1 for c in counts)

        await eventually(all_dispatched, seconds=90)
        counts = await asyncio.gather(*(whistles_of(cid) for cid in accepted.values()))
    assert [len(c) for c in counts] == [1] * len(accepted)  # no complaint got a second whistle
    for topic in ALL_TOPICS:
        assert await read_dead_letters(broker.bootstrap_servers, topic, within=3) == [], topic


async def test_whistle_up_rides_out_an_operator_restarting_its_postgres() -> None:
    home = Path(tempfile.mkdtemp(prefix="whistle-up-"))
    base = free_base_port()
    pg_port, broker_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    up = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "up", "--home", str(home), "--pg-port", str(pg_port),
        "--broker-port", str(broker_port), "--base-port", str(base), "--no-prometheus",
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    intake_url, registry_url = f"http://127.0.0.1:{base + 2}", f"http://127.0.0.1:{base + 1}"
    operator = EmbeddedPostgres(home / "pgdata", port=pg_port)  # the operator's pg_ctl, not a new server
    try:
        await _wait_for_line(up, b"ready in", seconds=120)
        token = _token(registry_url)
        async with httpx.AsyncClient(
            base_url=intake_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        ) as intake:
            first = await intake.post("/v1/complaints", json=demo_complaint(f"up-{uuid.uuid4().hex[:8]}"))
            assert first.status_code == 201, first.text
            await asyncio.to_thread(operator.pg_ctl, "restart", "-m", "immediate", "-w")
            await asyncio.sleep(3)
            assert up.returncode is None  # the stack did not exit

            async def filed() -> int | None:
                try:
                    response = await intake.post(
                        "/v1/complaints", json=demo_complaint(f"up-{uuid.uuid4().hex[:8]}")
                    )
                except httpx.HTTPError:
                    return None
                return response.status_code if response.status_code == 201 else None

            assert await eventually(filed, seconds=60) == 201

            async def dispatched() -> bool:
                body = (await intake.get(f"/v1/complaints/{first.json()['id']}")).json()
                return body["status"] == "dispatched"

            await eventually(dispatched, seconds=60)
        assert up.returncode is None
    finally:
        up.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(up.wait(), 60)
        leftover = operator.running_postmaster()
        remove_tree(home)
    assert code == 0
    assert leftover is None  # the restarted server was stopped with the stack


async def _wait_for_line(proc: asyncio.subprocess.Process, marker: bytes, *, seconds: float) -> None:
    """Read the stack's output up to a line with `marker`, then keep reading it in the background."""
    assert proc.stdout is not None
    stdout = proc.stdout
    deadline = time.monotonic() + seconds
    seen: list[bytes] = []
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(stdout.readline(), max(0.1, deadline - time.monotonic()))
        if not line:
            break
        seen.append(line)
        if marker in line:
            _DRAINS.add(asyncio.create_task(_drain(stdout)))
            return
    raise AssertionError(b"".join(seen[-30:]).decode(errors="replace"))


_DRAINS: set[asyncio.Task[None]] = set()


async def _drain(stdout: asyncio.StreamReader) -> None:
    while await stdout.readline():
        pass


def _token(registry_url: str) -> str:
    response = httpx.post(
        f"{registry_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "hotline",
            "client_secret": "demo-hotline-secret",
        },
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])
