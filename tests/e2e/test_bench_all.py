"""`whistle bench --quick` runs every part on a stack of its own and prints only the JSON rows
(correctness only: no figure of speed is asserted)."""

from __future__ import annotations

import asyncio
import sys

import orjson
import pytest

from shared.embedded import free_port

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(480)
async def test_bench_quick_sets_every_figure_beside_its_limit_in_json() -> None:
    # nothing answers at these ports: the benchmark starts (and stops) a stack of its own
    urls = [
        arg
        for service in ("registry", "intake", "dispatch", "sla")
        for arg in (f"--{service}-url", f"http://127.0.0.1:{free_port()}")
    ]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "bench", "--quick", "--json", *urls,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 420)
    assert proc.returncode == 0, err.decode()[-3000:]
    rows = orjson.loads(out)  # standard output holds the JSON and nothing else
    assert isinstance(rows, list) and rows
    assert all(set(r) == {"figure", "value", "limit", "ratio", "target"} for r in rows)
    by_figure = {r["figure"]: r for r in rows}
    for prefix in ("raw: FastAPI", "raw: asyncpg", "raw: aiokafka", "front door", "pipeline", "claims",
                   "timers", "routing"):  # fmt: skip
        assert any(f.startswith(prefix) for f in by_figure), prefix
    for r in rows:
        if r["value"] is not None and r["limit"]:
            assert r["ratio"] == pytest.approx(r["value"] / r["limit"], rel=0.02, abs=0.002), r
    assert by_figure["claims: double claims"]["value"] == 0
    timers = {f: r["value"] for f, r in by_figure.items() if f.startswith("timers,")}
    assert timers and set(timers.values()) == {0}  # no due clock missed, none twice
    paused = by_figure["front door, downstream paused (accepted/s, p99 < 50 ms)"]
    assert paused["value"] is not None  # the stack is on this machine: it was paused and measured
