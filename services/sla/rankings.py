"""Fair rankings (pure): units told apart only where the figures can tell them apart.

Eligible units (at least `min_sample` cases) are ordered by score, best first. A band holds the
units whose score intervals overlap the interval of the band's first unit; a unit whose interval
lies wholly below it opens the next band. Everyone in a band shares its rank: 1 + the number of
units in better bands. A unit below the minimum sample is shown with no rank and no band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.sla.scoring import Scored


@dataclass(frozen=True)
class Standing:
    unit: Scored
    rank: int | None
    band: int | None


def rank(units: Sequence[Scored]) -> list[Standing]:
    """Every unit with a case: the eligible ones ranked in bands, then the rest unranked."""
    eligible = sorted(
        (u for u in units if u.eligible and u.score is not None),
        key=lambda u: (-(u.score or 0.0), u.unit_code),
    )
    standings: list[Standing] = []
    band, band_rank, leader_low = 0, 0, None
    for position, unit in enumerate(eligible, start=1):
        if leader_low is None or (unit.high or 0.0) < leader_low:
            band, band_rank, leader_low = band + 1, position, unit.low or 0.0
        standings.append(Standing(unit, band_rank, band))
    rest = sorted(
        (u for u in units if not (u.eligible and u.score is not None) and u.n > 0),
        key=lambda u: (-(u.score or -1.0), u.unit_code),
    )
    return standings + [Standing(u, None, None) for u in rest]
