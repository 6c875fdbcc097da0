"""The arithmetic of `whistle bench`: the rate search, and the table's rows and ratios."""

from __future__ import annotations

import math

from services.benchmarks.overall import Row, render, rows_of
from services.benchmarks.ramp import Ramp, next_rate


def _search(ramp: Ramp, capacity: int) -> tuple[list[int], int | None]:
    """Drive the search against a server that meets the target up to `capacity`/s."""
    tried: list[int] = []
    best = missed = None
    refined = 0
    while (rate := next_rate(ramp, best=best, missed=missed, refined=refined)) is not None:
        if best is not None and missed is not None:
            refined += 1
        tried.append(rate)
        if rate <= capacity:
            best = rate
        else:
            missed = rate if missed is None else min(missed, rate)
    return tried, best


def test_the_search_doubles_until_a_miss_then_halves_the_gap() -> None:
    tried, best = _search(Ramp(start=100, refine=2), capacity=700)
    assert tried == [100, 200, 400, 800, 600, 700]
    assert best == 700


def test_the_search_goes_down_when_even_the_first_rate_misses() -> None:
    tried, best = _search(Ramp(start=400, refine=1), capacity=120)
    assert tried[:3] == [400, 200, 100]
    assert best is not None and 100 <= best <= 120


def test_the_search_stops_at_the_ceiling_and_when_nothing_meets_the_target() -> None:
    tried, best = _search(Ramp(start=100, ceiling=300), capacity=10_000)
    assert tried == [100, 200, 300] and best == 300
    tried, best = _search(Ramp(start=100), capacity=0)
    assert best is None and tried == [100, 50, 25, 12]


def test_the_search_stops_when_the_gap_is_a_tenth_of_the_best() -> None:
    assert next_rate(Ramp(refine=5), best=1000, missed=1090, refined=0) is None
    assert next_rate(Ramp(refine=5), best=1000, missed=1200, refined=0) == 1100


def test_a_row_sets_the_value_beside_its_limit() -> None:
    assert Row("x", 250.0, 1000.0).ratio == 0.25
    assert Row("x", 250.0).ratio is None
    assert Row("x", None, 1000.0).ratio is None
    assert Row("x", 5.0, 0.0).ratio is None
    assert Row("x", math.nan, 10.0).as_dict() == {
        "figure": "x", "value": None, "limit": 10.0, "ratio": None, "target": None,
    }  # fmt: skip


def test_rows_carry_each_part_and_its_limit() -> None:
    results = {
        "limits": {
            "fastapi_post_per_s": 4000.0,
            "fastapi_post_commit_per_s": 800.0,
            "asyncpg_commits_per_s": 12_000.0,
            "kafka_produce_per_s": 40_000.0,
            "kafka_consume_per_s": 200_000.0,
        },
        "front_door": {"running_per_s": 200.0, "paused_per_s": 400.0},
        "pipeline": {
            "rounds": [
                {"rate": 50, "filed_to_queued_p50_ms": 150.0, "filed_to_queued_p99_ms": 260.0,
                 "cpu_ms_per_complaint": {"intake": 5.0, "total": 13.0}},
                {"rate": 100, "filed_to_queued_p50_ms": 300.0, "filed_to_queued_p99_ms": 1500.0,
                 "cpu_ms_per_complaint": {"intake": 4.0, "total": 11.0}},
            ],
            "highest_sustained_rate": 50,
        },
        "claims": {"modes": {"each": {"claimed_and_signed_off_per_second": 300.0}}, "double_claims": 0},
    }  # fmt: skip
    rows = {r.figure: r for r in rows_of(results)}
    front = rows["front door, downstream paused (accepted/s, p99 < 50 ms)"]
    assert front.value == 400.0 and front.limit == 800.0 and front.ratio == 0.5
    assert rows["pipeline at 100/s: filed → queued p99 (ms)"].value == 1500.0
    # CPU per complaint is read at the highest sustained rate, not at the last round
    assert rows["pipeline: CPU per complaint, total (ms)"].value == 13.0
    assert rows["claims: claim 10 + sign off each, 32 workers (/s)"].ratio == 300.0 / 800.0
    assert rows["claims: double claims"].value == 0
    assert not any(f.startswith("timers") or f.startswith("routing") for f in rows)  # parts not run
    table = render(list(rows.values()))
    assert table.splitlines()[0].split() == ["figure", "value", "limit", "ratio", "target"]
    assert len(table.splitlines()) == len(rows) + 2
