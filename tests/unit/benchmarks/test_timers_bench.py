"""The timers benchmark's arithmetic: emitted, missed, twice, and the lag after each deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.benchmarks.tallies import Firings, spread
from services.benchmarks.timers import clock_ids, deadlines

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_clock_never_read_back_is_missed() -> None:
    firings = Firings({"c1": at(0), "c2": at(1)})
    firings.note("c1", at=at(0.1), emitted=at(0.2))
    assert firings.emitted == 1
    assert firings.missed == ["c2"]
    assert not firings.complete()


def test_a_clock_read_back_twice_is_counted_twice_once() -> None:
    firings = Firings({"c1": at(0)})
    firings.note("c1", at=at(0.1), emitted=at(0.2))
    firings.note("c1", at=at(0.3), emitted=at(0.4))
    assert firings.twice == ["c1"]
    assert firings.emitted == 1
    assert firings.complete()


def test_lag_is_from_the_deadline_to_the_first_firing_and_to_the_broker() -> None:
    firings = Firings({"c1": at(10), "c2": at(20)})
    firings.note("c1", at=at(10.05), emitted=at(10.3))
    firings.note("c2", at=at(20.5), emitted=at(21))
    assert sorted(firings.lags(of="fired")) == [0.05, 0.5]
    assert sorted(firings.lags(of="emitted")) == [0.3, 1.0]
    assert spread(firings.lags(of="emitted"), scale=1000) == {"p50": 300.0, "p99": 1000.0, "max": 1000.0}


def test_a_breach_of_a_clock_not_due_is_a_stray() -> None:
    firings = Firings({"c1": at(0)})
    firings.note("c9", at=at(0), emitted=at(0))
    assert firings.strays == 1
    assert firings.emitted == 0


def test_deadlines_are_spread_evenly_over_the_window() -> None:
    assert deadlines(T0, due=4, window=2.0) == [at(0), at(0.5), at(1.0), at(1.5)]


def test_clock_ids_name_the_run_and_fit_the_column() -> None:
    ids = clock_ids("abcd1234", 1_000_000)
    assert len(set(ids)) == 1_000_000
    assert all(i.startswith("bench-abcd1234-") for i in ids[:3])
    assert max(len(i) for i in ids) <= 36


def test_a_copy_of_an_event_already_read_is_a_redelivery_not_a_second_firing() -> None:
    firings = Firings({"c1": at(0)})
    firings.note("c1", at=at(0.1), emitted=at(0.2), event_id="e1")
    firings.note("c1", at=at(0.1), emitted=at(0.9), event_id="e1")  # the relay published it again
    assert firings.twice == [] and firings.redelivered == 1
    firings.note("c1", at=at(0.5), emitted=at(0.6), event_id="e2")  # a second firing
    assert firings.twice == ["c1"]
