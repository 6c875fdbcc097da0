"""Whistle-rate health per street (pure): whistles a street blew in a month per 10,000 of its
households, against the policy's band. Too few may mean matters are held back; too many, that the
street passes on work of its own. Both are flagged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.city import ScoringPolicy

Flag = Literal["low", "ok", "high", "no_households"]


@dataclass(frozen=True)
class WhistleRate:
    street_code: str
    whistles: int
    households: int
    per_10k: float | None
    low: float
    high: float
    flag: Flag


def whistle_rate(street_code: str, *, whistles: int, households: int, policy: ScoringPolicy) -> WhistleRate:
    low, high = policy.whistle_rate_low, policy.whistle_rate_high
    if households <= 0:
        return WhistleRate(street_code, whistles, households, None, low, high, "no_households")
    per_10k = whistles * 10_000 / households
    flag: Flag = "low" if per_10k < low else "high" if per_10k > high else "ok"
    return WhistleRate(street_code, whistles, households, per_10k, low, high, flag)
