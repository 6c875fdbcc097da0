"""When complaints come in, how many, and of which categories (pure).

The hotline's day has two peaks, mid-morning and evening, and a quiet night: `HOURLY_SHAPE` gives
the relative rate for each local hour (piecewise constant, averaging 1 over a day). Beijing's
12345 takes about 60,000 requests a day; a city smaller than Beijing gets that volume scaled by
its share of Beijing's households. Arrivals are a non-homogeneous Poisson process drawn by
thinning, so two runs with one seed file the same complaints at the same moments.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BEIJING_REQUESTS_PER_DAY = 60_000
BEIJING_HOUSEHOLDS = 8_230_000
"""Beijing's households (2020 census, about 8.23 million)."""

_RAW_SHAPE = (
    0.25, 0.15, 0.10, 0.08, 0.08, 0.15, 0.40, 0.90, 1.50, 1.90, 2.00, 1.70,
    1.20, 1.30, 1.50, 1.50, 1.40, 1.30, 1.30, 1.60, 1.70, 1.40, 0.90, 0.50,
)  # fmt: skip
HOURLY_SHAPE: tuple[float, ...] = tuple(v * 24 / sum(_RAW_SHAPE) for v in _RAW_SHAPE)
"""Relative arrival rate per local hour 0–23 (mean 1): peaks at 10:00 and 20:00."""

CATEGORY_WEIGHTS: Mapping[str, float] = {
    "property_management": 10,
    "noise": 7,
    "heating": 6,
    "garbage_piling": 5,
    "residential_parking": 5,
    "illegal_construction": 4,
    "road_damage": 3,
    "water_supply": 3,
    "street_vendor": 3,
    "neighbor_dispute": 3,
    "back_alley": 3,
    "traffic_signal": 2,
    "group_rental": 2,
    "shared_bike": 2,
    "price_violation": 2,
    "street_light": 2,
    "greening": 2,
    "sewage_overflow": 1.5,
    "food_safety": 1.5,
    "elevator": 1.5,
    "dog_keeping": 1.5,
    "gas": 0.5,
}
"""How often each category is called in, relative to a category not listed (1)."""

DUPLICATE_SHARE = 0.06
"""Complaints that are a second resident calling about a matter already reported nearby."""
URGENT_SHARE = 0.05
"""Normal-urgency complaints the hotline files as urgent (a caller's matter that cannot wait)."""


def daily_volume(households: int, *, override: int | None = None) -> int:
    """Complaints a day: `override`, else Beijing's volume times the city's share of its households."""
    if override is not None:
        return max(0, override)
    share = min(1.0, households / BEIJING_HOUSEHOLDS)
    return max(1, round(BEIJING_REQUESTS_PER_DAY * share))


def shape_at(hour_of_day: float) -> float:
    """The relative rate at a local time of day (hours since midnight, any real number)."""
    return HOURLY_SHAPE[math.floor(hour_of_day) % 24]


def expected_in_hour(volume_per_day: float, hour: int) -> float:
    """Complaints expected during local hour `hour` (0–23)."""
    return volume_per_day / 24 * HOURLY_SHAPE[hour % 24]


def arrival_times(
    rng: random.Random, *, volume_per_day: float, start_hour: float, hours: float
) -> list[float]:
    """Arrival instants, in seconds from the start of the run, over `hours` from local `start_hour`."""
    if volume_per_day <= 0 or hours <= 0:
        return []
    peak = volume_per_day / 86_400 * max(HOURLY_SHAPE)
    end = hours * 3600
    times: list[float] = []
    t = 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= end:
            return times
        rate = volume_per_day / 86_400 * shape_at(start_hour + t / 3600)
        if rng.random() < rate / peak:
            times.append(t)


def category_mix(categories: Sequence[str]) -> dict[str, float]:
    """Each of the city's categories with its weight (unlisted ones: 1)."""
    return {c: float(CATEGORY_WEIGHTS.get(c, 1.0)) for c in categories}


@dataclass(frozen=True)
class Call:
    """One call to the hotline: when, about what, and whether it repeats an earlier call's matter."""

    at: float
    category: str
    urgency: str | None
    duplicate_of: int | None


def calls(
    rng: random.Random,
    times: Sequence[float],
    *,
    mix: Mapping[str, float],
    urgencies: Mapping[str, str],
) -> list[Call]:
    """A call for each arrival: a category from the mix (the category's own urgency, now and then
    raised to urgent), or a repeat of an earlier call about the same matter."""
    codes = sorted(mix)
    weights = [mix[c] for c in codes]
    made: list[Call] = []
    for t in times:
        if made and rng.random() < DUPLICATE_SHARE:
            first = rng.randrange(max(0, len(made) - 50), len(made))
            original = made[first]
            root = first if original.duplicate_of is None else original.duplicate_of
            made.append(Call(t, original.category, original.urgency, root))
            continue
        category = rng.choices(codes, weights)[0]
        urgency = "urgent" if urgencies.get(category) == "normal" and rng.random() < URGENT_SHARE else None
        made.append(Call(t, category, urgency, None))
    return made


def per_hour(times: Sequence[float], hours: float) -> list[int]:
    """How many arrivals fell in each hour of the run."""
    counts = [0] * max(1, math.ceil(hours))
    for t in times:
        counts[min(len(counts) - 1, int(t // 3600))] += 1
    return counts
