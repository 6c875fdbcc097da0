"""The local stack (`whistle up`) neither exits nor restarts PostgreSQL when an operator restarts it
(PostgreSQL stopped under load is scenario 5 of the fault suite, tests/reliability)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.embedded import EmbeddedPostgres, free_port, remove_tree
from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


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
