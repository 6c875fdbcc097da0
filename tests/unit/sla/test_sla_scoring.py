"""Rates with Wilson intervals, scores weighted by the policy in force for the period, case shares,
fair rankings in bands, whistle-rate health."""

from __future__ import annotations

import pytest

from services.sla.periods import parse_period
from services.sla.rankings import rank
from services.sla.scoring import Scored, contribution, score_tally, wilson
from services.sla.tallies import OutcomeCount, Tally, build_tallies, follow_up_outcomes
from services.sla.whistle_rates import whistle_rate
from shared.city import PolicyVersion, ScoringPolicy
from tests.conftest import tiny_city

POLICY = ScoringPolicy(
    response=0.2, resolution=0.3, satisfaction=0.3, on_time=0.1, street_evaluation=0.1, min_sample=5
)


def counts(unit: str, **by_measure: dict[str, int]) -> list[OutcomeCount]:
    return [OutcomeCount(unit, m, o, n) for m, outcomes in by_measure.items() for o, n in outcomes.items()]


def tally(
    unit: str = "u1",
    cases: int = 10,
    evaluations: tuple[int, float] | None = None,
    **by_measure: dict[str, int],
) -> Tally:
    found = build_tallies(
        counts(unit, **by_measure),
        cases={unit: cases},
        evaluations={unit: evaluations} if evaluations else {},
        basically_satisfied=0.8,
    )
    return found[unit]


def test_wilson_interval_of_a_proportion() -> None:
    low, high = wilson(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.49, 0.943)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(10, 10)
    assert high == pytest.approx(1.0) and round(low, 3) == 0.722


def test_the_interval_narrows_as_cases_grow() -> None:
    small, large = wilson(8, 10), wilson(800, 1000)
    assert small[1] - small[0] > large[1] - large[0]


def test_basically_satisfied_counts_as_the_policy_weights_it() -> None:
    t = tally(satisfaction={"satisfied": 1, "basically_satisfied": 1, "unsatisfied": 2})
    assert t.rate("satisfaction").n == 4
    assert t.rate("satisfaction").successes == pytest.approx(1.8)
    assert follow_up_outcomes(resolved=False, satisfaction="unsatisfied") == [
        ("resolution", "unresolved"),
        ("satisfaction", "unsatisfied"),
    ]


def test_score_is_the_policy_weighted_sum_of_the_rates() -> None:
    t = tally(
        response={"met": 8, "breached": 2},
        resolution={"resolved": 5, "unresolved": 5},
        satisfaction={"satisfied": 10},
        on_time={"met": 10},
        evaluations=(2, 150.0),
    )
    scored = score_tally(t, POLICY)
    assert scored.score == pytest.approx(100 * (0.2 * 0.8 + 0.3 * 0.5 + 0.3 * 1.0 + 0.1 * 1.0 + 0.1 * 0.75))
    assert scored.low is not None and scored.high is not None and scored.low < scored.score < scored.high


def test_a_measure_without_data_drops_out_and_the_others_carry_its_weight() -> None:
    co_department = tally(response={"met": 3, "breached": 1})
    scored = score_tally(co_department, POLICY)
    assert scored.shares == {"response": 1.0}
    assert scored.score == pytest.approx(75.0)
    assert score_tally(tally(contact={"met": 3}), POLICY).score is None


def test_each_counted_cases_share_adds_up_to_the_score() -> None:
    t = tally(
        response={"met": 3, "breached": 1}, resolution={"resolved": 1, "unresolved": 1}, evaluations=(1, 90.0)
    )
    scored = score_tally(t, POLICY)
    shares = [contribution(scored, "response", 1.0)] * 3 + [contribution(scored, "response", 0.0)]
    shares += [contribution(scored, "resolution", 1.0), contribution(scored, "resolution", 0.0)]
    shares += [contribution(scored, "street_evaluation", 0.9)]
    assert sum(shares) == pytest.approx(scored.score)


def test_a_unit_below_the_minimum_sample_is_scored_but_not_eligible() -> None:
    few = score_tally(tally(cases=4, response={"met": 4}), POLICY)
    enough = score_tally(tally(cases=5, response={"met": 5}), POLICY)
    assert few.score == 100.0 and not few.eligible
    assert enough.eligible


def test_weights_come_from_the_scoring_policy_in_force_when_the_period_starts() -> None:
    city = tiny_city()
    december = parse_period("2026-12").span().start
    heavier = ScoringPolicy(
        response=1.0, resolution=0.0, satisfaction=0.0, on_time=0.0, street_evaluation=0.0, min_sample=1
    )
    versioned = city.model_copy(
        update={"policy_history": [PolicyVersion(id=1, scoring=heavier, effective_from=december)]}
    )
    t = tally(response={"met": 1, "breached": 1}, resolution={"resolved": 2})
    november = versioned.policies_at(parse_period("2026-11").span().start).scoring
    assert score_tally(t, november).score == pytest.approx(100 * (0.2 * 0.5 + 0.3 * 1.0) / 0.5)
    assert score_tally(t, versioned.policies_at(december).scoring).score == pytest.approx(50.0)


def scored(unit: str, score: float, low: float, high: float, *, eligible: bool = True, n: int = 10) -> Scored:
    return Scored(unit, n, score, low, high, eligible)


def test_units_whose_intervals_overlap_share_a_rank_band() -> None:
    standings = rank(
        [
            scored("b", 88, 70, 93),
            scored("a", 90, 80, 95),
            scored("c", 50, 40, 60),
            scored("d", 45, 35, 55),
        ]
    )
    assert [(s.unit.unit_code, s.rank, s.band) for s in standings] == [
        ("a", 1, 1),
        ("b", 1, 1),
        ("c", 3, 2),
        ("d", 3, 2),
    ]


def test_units_told_apart_by_their_figures_get_ranks_of_their_own() -> None:
    standings = rank([scored("a", 95, 92, 98), scored("b", 80, 77, 83), scored("c", 60, 57, 63)])
    assert [(s.rank, s.band) for s in standings] == [(1, 1), (2, 2), (3, 3)]


def test_a_unit_below_the_minimum_sample_is_shown_without_a_rank() -> None:
    standings = rank([scored("small", 100, 60, 100, eligible=False, n=3), scored("big", 70, 65, 75)])
    assert [(s.unit.unit_code, s.rank, s.band) for s in standings] == [("big", 1, 1), ("small", None, None)]


def test_whistle_rate_per_ten_thousand_households_is_flagged_outside_the_band() -> None:
    assert whistle_rate("s1", whistles=0, households=1600, policy=POLICY).flag == "low"
    ok = whistle_rate("s1", whistles=1, households=1600, policy=POLICY)
    assert ok.flag == "ok" and ok.per_10k == pytest.approx(6.25)
    assert whistle_rate("s1", whistles=5, households=1600, policy=POLICY).flag == "high"
    assert whistle_rate("s9", whistles=1, households=0, policy=POLICY).flag == "no_households"


def test_score_interval_bounds_hold_the_score() -> None:
    t = tally(response={"met": 1})
    s = score_tally(t, POLICY)
    assert s.low is not None and s.high is not None and s.low <= (s.score or 0) <= s.high
