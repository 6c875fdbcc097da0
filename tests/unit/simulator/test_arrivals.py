"""The hotline's day: its curve, its volume, its calls."""

from __future__ import annotations

import random

from services.simulator.arrivals import (
    BEIJING_HOUSEHOLDS,
    BEIJING_REQUESTS_PER_DAY,
    HOURLY_SHAPE,
    arrival_times,
    calls,
    category_mix,
    daily_volume,
    expected_in_hour,
    per_hour,
)


def test_the_curve_averages_one_and_peaks_mid_morning_and_evening() -> None:
    assert abs(sum(HOURLY_SHAPE) / 24 - 1) < 1e-9
    morning = max(range(6, 14), key=lambda h: HOURLY_SHAPE[h])
    evening = max(range(16, 24), key=lambda h: HOURLY_SHAPE[h])
    assert morning in (9, 10, 11) and evening in (19, 20, 21)
    assert HOURLY_SHAPE[3] < HOURLY_SHAPE[morning] / 10


def test_beijing_takes_sixty_thousand_a_day_and_a_smaller_city_its_share_of_households() -> None:
    assert daily_volume(BEIJING_HOUSEHOLDS) == BEIJING_REQUESTS_PER_DAY
    assert daily_volume(BEIJING_HOUSEHOLDS * 3) == BEIJING_REQUESTS_PER_DAY
    demo = daily_volume(134_450)
    assert 900 < demo < 1100
    assert 20 < expected_in_hour(demo, 10) < 100  # a few dozen in a daytime hour
    assert daily_volume(134_450, override=300) == 300


def test_a_day_of_arrivals_has_the_day_s_volume_and_follows_the_curve() -> None:
    times = arrival_times(random.Random(7), volume_per_day=20_000, start_hour=0, hours=24)
    assert abs(len(times) - 20_000) < 500
    assert times == sorted(times) and times[0] >= 0 and times[-1] < 24 * 3600
    hours = per_hour(times, 24)
    assert hours[10] > 5 * hours[3] and hours[20] > 5 * hours[3]


def test_the_run_starts_at_its_local_hour() -> None:
    times = arrival_times(random.Random(1), volume_per_day=10_000, start_hour=9, hours=2)
    assert all(t < 7200 for t in times)
    assert abs(len(times) - expected_in_hour(10_000, 9) - expected_in_hour(10_000, 10)) < 80


def test_one_seed_gives_one_day() -> None:
    def day(seed: int) -> list[float]:
        return arrival_times(random.Random(seed), volume_per_day=1000, start_hour=8, hours=24)

    assert day(3) == day(3) and day(3) != day(4)


def test_calls_follow_the_mix_and_some_repeat_a_matter_already_reported() -> None:
    mix = category_mix(["noise", "heating", "gas", "unlisted"])
    assert mix["noise"] > mix["unlisted"] == 1 > mix["gas"]
    rng = random.Random(5)
    made = calls(rng, [float(i) for i in range(5000)], mix=mix, urgencies={"noise": "normal"})
    counts = {c: sum(1 for m in made if m.category == c) for c in mix}
    assert counts["noise"] > 3 * counts["unlisted"] > 3 * counts["gas"]
    repeats = [m for m in made if m.duplicate_of is not None]
    assert 0.03 < len(repeats) / len(made) < 0.1
    for m in repeats:
        first = made[m.duplicate_of]  # type: ignore[index]
        assert first.duplicate_of is None and first.category == m.category
    raised = [m for m in made if m.urgency == "urgent"]
    assert raised and all(m.category == "noise" for m in raised)
