"""The claims and timers benchmarks run against the real stack and account for every order and
every due clock (correctness only: no figure of speed is asserted)."""

from __future__ import annotations

import asyncio
import sys

import orjson
import pytest

from tests.conftest import Infra
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


async def _bench(*argv: str) -> dict[str, object]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "bench", *argv, "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 100)
    assert proc.returncode == 0, (out + err).decode()[-3000:]
    return dict(orjson.loads(out))


async def test_bench_claims_signs_off_every_order_once_and_re_offers_expired_leases(
    stack: Stack, infra: Infra
) -> None:
    report = await _bench(
        "claims", "--registry-url", stack.urls["registry"], "--dispatch-url", stack.urls["dispatch"],
        "--database-url", infra.database_url, "--department", "zjw",
        "--assignments", "200", "--workers", "2", "--probe", "5",
    )  # fmt: skip
    for mode in ("each", "on-claim"):  # every order signed off, once, either way
        assert report["modes"][mode]["assignments"] == 200
        assert report["modes"][mode]["signed_off"] == 200
    assert report["double_claims"] == 0 and report["refused_actions"] == 0
    assert report["claim_ms_one_worker_alone"]["p50"] is not None
    assert report["reoffered"] == 5


async def test_bench_timers_breaches_every_due_clock_once_through_a_replica_restart(
    stack: Stack, infra: Infra
) -> None:
    report = await _bench(
        "timers", "--registry-url", stack.urls["registry"], "--database-url", infra.database_url,
        "--bootstrap", infra.bootstrap_servers, "--clocks", "2000", "--due", "50", "--window", "5",
        "--replicas", "2", "--restart-at", "2", "--grace", "20",
    )  # fmt: skip
    assert report["due"] == 50 and report["emitted"] == 50
    assert report["missed"] == 0 and report["twice"] == 0 and report["fired_early"] == 0
