"""The pipeline benchmark runs against a stack and accounts for every complaint it filed (a smoke
test: no figure of speed is asserted)."""

from __future__ import annotations

import asyncio
import sys

import orjson
import pytest

pytestmark = pytest.mark.e2e


async def test_bench_pipeline_follows_every_complaint_to_a_queue_and_measures_each_part(stack, infra) -> None:  # type: ignore[no-untyped-def]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "bench", "pipeline", "--json",
        "--url", stack.urls["intake"], "--registry-url", stack.urls["registry"],
        "--bootstrap", infra.bootstrap_servers, "--rates", "5",
        "--seconds", "2", "--drain", "30", "--idle", "1", "--p99-ms", "60000",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, (out + err).decode()[-3000:]
    report = orjson.loads(out)
    (round_,) = report["rounds"]
    assert round_["filed"] == 10 and round_["queued"] == 10
    assert {"intake", "dispatch", "sla", "registry", "postgres", "total"} <= set(
        round_["cpu_ms_per_complaint"]
    )
    assert report["highest_sustained_rate"] == 5  # with a target no stack can miss: nothing left behind
