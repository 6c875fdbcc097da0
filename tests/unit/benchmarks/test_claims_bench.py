"""The claims benchmark's arithmetic: percentiles, double claims, re-offers after a lease ran out."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from services.benchmarks.tallies import ClaimBook, percentile, spread

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7


def test_percentile_of_nothing_is_nan_and_spread_of_nothing_is_none() -> None:
    assert math.isnan(percentile([], 50))
    assert spread([]) == {"p50": None, "p99": None, "max": None}


def test_spread_scales_and_rounds() -> None:
    assert spread([0.001, 0.002, 0.0105], scale=1000, digits=1) == {"p50": 2.0, "p99": 10.5, "max": 10.5}


def test_an_order_claimed_once_per_worker_in_turn_is_no_double_claim() -> None:
    book = ClaimBook()
    book.granted(["a", "b"], "w1", start=at(0), end=at(60))
    book.granted(["c"], "w2", start=at(0.1), end=at(60.1))
    assert book.doubles == set()
    assert book.claims_of("a") == 1


def test_an_order_handed_out_while_another_lease_runs_is_a_double_claim() -> None:
    book = ClaimBook()
    book.granted(["a", "b"], "w1", start=at(0), end=at(60))
    book.granted(["b"], "w2", start=at(30), end=at(90))
    assert book.doubles == {"b"}


def test_the_same_worker_given_an_order_it_holds_again_is_a_double_claim_too() -> None:
    book = ClaimBook()
    book.granted(["a"], "w1", start=at(0), end=at(60))
    book.granted(["a"], "w1", start=at(1), end=at(61))
    assert book.doubles == {"a"}


def test_a_claim_after_the_lease_ran_out_is_a_re_offer_not_a_double_claim() -> None:
    book = ClaimBook()
    book.granted(["a"], "holder", start=at(0), end=at(5))
    book.granted(["a"], "w2", start=at(5.2), end=at(65.2))
    assert book.doubles == set()
    assert book.reoffered_after("a", "holder") == 0.2


def test_a_sign_off_renews_the_lease_so_a_claim_within_it_is_a_double_claim() -> None:
    book = ClaimBook()
    book.granted(["a"], "w1", start=at(0), end=at(5))
    book.note_signed_off("a", "w1", lease_end=at(9))
    book.granted(["a"], "w2", start=at(7), end=at(12))
    assert book.doubles == {"a"}
    assert book.signed_off == {"a": "w1"}


def test_an_order_nobody_else_took_has_no_re_offer() -> None:
    book = ClaimBook()
    book.granted(["a"], "holder", start=at(0), end=at(5))
    assert book.reoffered_after("a", "holder") is None
    assert book.reoffered_after("b", "holder") is None


def test_refused_actions_are_kept_with_their_status() -> None:
    book = ClaimBook()
    book.note_refused("a", 409)
    assert book.refused == {"a": 409}
