"""The behaviour model: steps in order, shares of returns, extensions and lateness, satisfaction."""

from __future__ import annotations

import random
import statistics

from services.simulator.workers import (
    Behaviour,
    Deadlines,
    Plan,
    evaluation_score,
    follow_up_result,
    plan_order,
)

NORMAL = Deadlines(sign_off=1800, contact=86_400, report_in=86_400, resolve=7 * 86_400)
EMERGENCY = Deadlines(sign_off=300, contact=1800, report_in=1800, resolve=7200)


def plans(n: int = 4000, *, role: str = "lead", deadlines: Deadlines = NORMAL, seed: int = 1) -> list[Plan]:
    rng = random.Random(seed)
    return [plan_order(rng, deadlines, role=role) for _ in range(n)]


def test_every_plan_does_its_steps_in_order() -> None:
    for p in plans():
        assert 0 < p.sign_off <= p.contact <= p.on_site <= p.answer


def test_workers_mostly_keep_the_deadlines_and_a_share_is_late() -> None:
    made = plans()
    on_time = [p for p in made if p.returns is None and p.extension_at is None and p.late is None]
    kept = [p for p in on_time if p.answer <= NORMAL.resolve and p.sign_off <= NORMAL.sign_off]
    assert len(kept) / len(on_time) > 0.97
    late = [p for p in made if p.late is not None]
    assert 0.05 < len(late) / len(made) < 0.12
    late_sign_offs = [p for p in late if p.late == "sign_off"]
    assert late_sign_offs and all(p.sign_off > NORMAL.sign_off for p in late_sign_offs)


def test_delays_scale_with_the_urgency_s_deadlines() -> None:
    normal = statistics.median(p.answer for p in plans(deadlines=NORMAL))
    emergency = statistics.median(p.answer for p in plans(deadlines=EMERGENCY))
    assert 50 < normal / emergency < 120


def test_some_orders_are_sent_back_soon_after_sign_off_but_never_by_the_backstop() -> None:
    made = plans()
    returned = [p for p in made if p.returns is not None]
    assert 0.03 < len(returned) / len(made) < 0.1
    assert all(p.returns in ("not_our_duty", "wrong_area") for p in returned)
    assert all(p.answer < NORMAL.contact for p in returned)
    assert not [p for p in plans(role="backstop") if p.returns is not None]


def test_an_extension_is_asked_before_the_deadline_and_the_answer_comes_within_the_new_one() -> None:
    asked = [p for p in plans() if p.extension_at is not None]
    assert asked
    for p in asked:
        assert p.extension_at is not None and p.extended_to is not None
        assert p.on_site <= p.extension_at <= NORMAL.resolve
        assert NORMAL.resolve < p.answer <= p.extended_to


def test_a_behaviour_without_returns_or_lateness_gives_none() -> None:
    calm = Behaviour(late_share=0, return_share=0, extension_share=0)
    rng = random.Random(2)
    made = [plan_order(rng, NORMAL, role="lead", behaviour=calm) for _ in range(500)]
    assert not [p for p in made if p.returns or p.late or p.extension_at]


def test_residents_handled_late_are_less_often_satisfied() -> None:
    rng = random.Random(3)

    def unhappy(on_time: bool) -> float:
        answers = [follow_up_result(rng, on_time=on_time) for _ in range(4000)]
        return sum(1 for resolved, s in answers if not resolved or s == "unsatisfied") / len(answers)

    assert unhappy(True) < 0.2 < unhappy(False)


def test_a_street_scores_an_agency_by_its_work_on_time() -> None:
    rng = random.Random(4)
    good = [evaluation_score(rng, on_time_share=1.0) for _ in range(50)]
    poor = [evaluation_score(rng, on_time_share=0.2) for _ in range(50)]
    assert statistics.mean(good) > statistics.mean(poor) + 20
    assert all(0 <= s <= 100 for s in good + poor)
