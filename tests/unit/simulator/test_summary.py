"""The summary's arithmetic: filed, lost and each figure counted from the services' view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.simulator.summary import Filing, Ledger, Readback, percentile, summarize

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def at(real_seconds: float) -> str:
    return (START + timedelta(seconds=real_seconds)).isoformat()


def create_whistle(complaint_id: str, **overrides: Any) -> dict[str, Any]:
    whistle: dict[str, Any] = {
        "id": f"w-{complaint_id}-{overrides.get('round', 1)}",
        "complaint_id": complaint_id,
        "round": 1,
        "status": "open",
        "issued_at": at(1),
        "completed_at": None,
        "assignments": [{"status": "signed_off", "unit_code": "d1-zjw"}],
        "escalations": [],
    }
    return whistle | overrides


def create_clock(complaint_id: str, stage: str, **overrides: Any) -> dict[str, Any]:
    clock = {
        "complaint_id": complaint_id,
        "stage": stage,
        "status": "running",
        "department_code": "zjw",
        "role": "lead",
        "started_at": at(1),
        "stopped_at": None,
        "warned_at": None,
        "breached_at": None,
    }
    return clock | overrides


def ledger_of(*ids: str, merged: tuple[str, ...] = ()) -> Ledger:
    ledger = Ledger()
    for n, c in enumerate(ids):
        ledger.filings[c] = Filing(
            c, at=n * 600.0, category="noise", urgency="normal", street_code="s1", merged=c in merged
        )
    return ledger


def readback_of(
    complaints: dict[str, dict[str, Any]], whistles: list[dict[str, Any]], **overrides: Any
) -> Readback:
    base: dict[str, Any] = dict(
        read_at=START + timedelta(seconds=60),
        started_at=START,
        complaints=complaints,
        whistles=whistles,
        clocks=[],
        extensions=[],
        evaluations=[],
        claimed=0,
    )
    return Readback(**(base | overrides))


def test_lost_is_filed_less_what_intake_and_dispatch_account_for() -> None:
    ledger = ledger_of("a", "b", "c", "d", "e", merged=("d",))
    complaints: dict[str, dict[str, Any]] = {
        "a": {"status": "in_progress", "merged_into": None},
        "b": {"status": "received", "merged_into": None},  # intake has it, dispatch not yet
        "d": {"status": "received", "merged_into": "a"},  # merged: accounted for without a whistle
        "e": {"status": "reopened", "merged_into": None},  # waiting for its new round's whistle
    }  # "c": intake never stored it
    whistles = [create_whistle("a"), create_whistle("e", status="completed")]
    summary = summarize(ledger, readback_of(complaints, whistles), speed=60, hours=1)
    assert list(summary.figures)[:2] == ["filed", "lost"]
    assert summary.figures["filed"] == 5
    assert summary.figures["lost"] == 3  # b, c, e
    assert summary.figures["merged"] == 1
    assert summary.lines()[:2] == ["filed: 5", "lost: 3"]


def test_each_figure_is_counted_from_what_the_services_hold() -> None:
    ledger = ledger_of("a", "b", "c")
    ledger.street_whistles["sw-1"] = "street-matter"
    complaints = {
        "a": {"status": "closed", "merged_into": None},
        "b": {"status": "dispatched", "merged_into": None},
        "c": {"status": "resolved", "merged_into": None},
    }
    whistles = [
        create_whistle(
            "a", status="superseded", assignments=[{"status": "returned"}, {"status": "withdrawn"}]
        ),
        create_whistle("a", round=2, status="completed", completed_at=at(50)),
        create_whistle(
            "b",
            escalations=[
                {"action": "remind", "fired_at": at(5)},
                {"action": "district", "fired_at": at(9)},
                {"action": "backstop_joins", "fired_at": None},
            ],
        ),
        create_whistle("c", status="completed", completed_at=at(40)),
        create_whistle("street-matter", id="sw-1"),
        create_whistle("not-ours"),
    ]
    clocks = [
        create_clock("a", "sign_off", status="met", stopped_at=at(2)),
        create_clock("b", "sign_off", warned_at=at(2), breached_at=at(3)),
        create_clock("b", "contact", department_code=None, role="backstop", breached_at=at(4)),
        create_clock("c", "resolve", status="met", warned_at=at(30), stopped_at=at(40)),
    ]
    readback = readback_of(
        complaints,
        whistles,
        clocks=clocks,
        claimed=7,
        extensions=[{"status": "approved"}, {"status": "pending"}],
        evaluations=[{"score": 80}],
    )
    f = summarize(ledger, readback, speed=60, hours=1).figures
    assert f["lost"] == 0
    assert (f["dispatched"], f["whistles"], f["street_whistles"]) == (3, 4, 1)
    assert (f["claimed"], f["returned"], f["escalated"], f["reminded"], f["extended"]) == (7, 1, 1, 1, 1)
    assert f["breached"] == {"sign_off": 1, "contact": 1, "report_in": 0, "resolve": 0}
    assert f["warned"] == {"sign_off": 1, "contact": 0, "report_in": 0, "resolve": 1}
    assert (f["resolved"], f["satisfied"], f["reopened"], f["followed_up"]) == (2, 1, 1, 2)
    assert (f["open_at_end"], f["evaluations"]) == (1, 1)


def test_series_give_latencies_in_simulated_minutes_breaches_per_department_and_the_backlog() -> None:
    ledger = ledger_of("a", "b")  # filed at 0 and 600 simulated seconds
    whistles = [create_whistle("a", status="completed", completed_at=at(100)), create_whistle("b")]
    clocks = [
        create_clock("a", "sign_off", status="met", started_at=at(0), stopped_at=at(30)),
        create_clock(
            "b", "sign_off", status="breached", started_at=at(0), stopped_at=at(90), breached_at=at(60)
        ),
        create_clock("b", "contact", department_code=None, role="backstop", breached_at=at(55)),
    ]
    complaints = {c: {"status": "in_progress", "merged_into": None} for c in ("a", "b")}
    series = summarize(ledger, readback_of(complaints, whistles, clocks=clocks), speed=60, hours=3).series
    assert series["latency_minutes"]["sign_off"] == {"p50": 30.0, "p90": 90.0, "p99": 90.0}
    assert series["breaches_by_department"] == {"backstop": 1, "zjw": 1}
    # a: answered at 100 s real = 6000 simulated seconds, in the second hour; b: still open
    assert series["backlog"] == [2, 1, 1]
    assert series["arrivals_per_hour"] == [2, 0, 0]


def test_the_ranking_is_best_first_with_its_intervals() -> None:
    scores = [
        {"unit_code": "d1-zjw", "score": 70.0, "score_interval": [60.0, 80.0], "rank": 2, "band": 1, "n": 9},
        {"unit_code": "d1-cgw", "score": 90.0, "score_interval": [85.0, 95.0], "rank": 1, "band": 1, "n": 12},
        {"unit_code": "d1-sw", "score": None, "score_interval": None, "rank": None, "band": None, "n": 0},
    ]
    series = summarize(Ledger(), readback_of({}, [], scores=scores), speed=60, hours=1).series
    assert [r["unit_code"] for r in series["ranking"]] == ["d1-cgw", "d1-zjw"]
    assert series["ranking"][0]["interval"] == [85.0, 95.0]


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([float(v) for v in range(1, 101)], 50) == 50.0
    assert percentile([float(v) for v in range(1, 101)], 99) == 99.0
