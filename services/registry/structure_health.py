"""The health of the city's structure: every street and community outside a size standard the
reform set (pure), by how far.

The standards are registry policy (`shared.city.StructurePolicy`, versioned like every policy):

- a street in a core district: residents within `core_street_residents`, area within
  `core_street_area_km2`; any other street: residents within `street_residents`;
- a community: households within `community_households`, residents within `community_residents`;
  over `super_community_households` households it is a super-community to split;
- a community's social workers: at least `social_workers_min`, and between one per
  `households_per_worker.max` and one per `households_per_worker.min` households.

A street's residents and area are its communities' (its stored boundary's area when it has one);
a measure that is not recorded is not judged. `off_by` is how far outside the band, as a share of
the bound crossed (0.5: half as much again as the maximum, or half short of the minimum).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shared.city import Band, CityData, Community, Point, Street, StructurePolicy

Level = Literal["street", "community"]
Flag = Literal["over", "under", "super_community"]
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    name: str
    district_code: str
    street_code: str
    measure: str
    value: float
    band: Band
    flag: Flag
    off_by: float
    standard: str


def ring_area_km2(ring: Sequence[Point]) -> float:
    """The area of a [lon, lat] ring in km² (locally flat: exact enough at a street's size)."""
    if len(ring) < 4:
        return 0.0
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    kx, ky = KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(lat0), KM_PER_DEGREE_LAT
    twice = sum((a[0] * kx) * (b[1] * ky) - (b[0] * kx) * (a[1] * ky) for a, b in itertools.pairwise(ring))
    return abs(twice) / 2


def community_area_km2(community: Community) -> float:
    return community.area_km2 if community.area_km2 is not None else ring_area_km2(community.polygon)


def street_area_km2(street: Street) -> float:
    if street.polygon is not None:
        return ring_area_km2(street.polygon)
    return sum(community_area_km2(c) for c in street.communities)


def street_residents(street: Street) -> int | None:
    """The residents of a street's communities; None when a community has none recorded."""
    counts = [c.residents for c in street.communities]
    if not counts or any(n is None for n in counts):
        return None
    return sum(n for n in counts if n is not None)


def worker_band(households: int, policy: StructurePolicy) -> Band:
    """How many social workers a community of `households` should have."""
    per = policy.households_per_worker
    least = policy.social_workers_min
    low = max(least, math.ceil(households / per.max)) if per.max else least
    high = max(low, math.floor(households / per.min)) if per.min else None
    return Band(min=low, max=high)


def outside(value: float, band: Band) -> tuple[Flag, float] | None:
    """(over/under, off_by) when `value` is outside `band`; None inside it."""
    if band.max is not None and value > band.max:
        return "over", (value - band.max) / band.max if band.max else float(value)  # over a 0 band: by value
    if band.min is not None and value < band.min:
        return "under", (band.min - value) / band.min
    return None


def _describe(band: Band, unit: str) -> str:
    if band.min is not None and band.max is not None:
        return f"{band.min:,.0f}–{band.max:,.0f} {unit}"
    if band.max is not None:
        return f"at most {band.max:,.0f} {unit}"
    if band.min is not None:
        return f"at least {band.min:,.0f} {unit}"
    return f"any number of {unit}"


def health(city: CityData, policy: StructurePolicy) -> list[Finding]:
    """Every street and community outside a band, furthest out first."""
    findings: list[Finding] = []
    for district in city.districts:
        for street in district.streets:
            findings += _street(street, district.code, policy)
            for community in street.communities:
                findings += _community(community, street, district.code, policy)
    return sorted(findings, key=lambda f: (-f.off_by, f.level, f.code, f.measure))


def _street(street: Street, district: str, policy: StructurePolicy) -> list[Finding]:
    found: list[Finding] = []

    def judge(measure: str, value: float | None, band: Band, standard: str) -> None:
        out = None if value is None else outside(value, band)
        if value is not None and out is not None:
            found.append(
                Finding(
                    "street", street.code, street.name, district, street.code,
                    measure, value, band, out[0], round(out[1], 4), standard,
                )
            )  # fmt: skip

    residents = street_residents(street)
    if district in policy.core_districts:
        where = "a street in a core district"
        band = policy.core_street_residents
        judge("residents", residents, band, f"{where}: {_describe(band, 'residents')}")
        area = policy.core_street_area_km2
        judge("area_km2", round(street_area_km2(street), 3), area, f"{where}: {_describe(area, 'km²')}")
    else:
        band = policy.street_residents
        judge("residents", residents, band, f"a street: {_describe(band, 'residents')}")
    return found


def _community(community: Community, street: Street, district: str, policy: StructurePolicy) -> list[Finding]:
    found: list[Finding] = []

    def judge(measure: str, value: float | None, band: Band, standard: str, flag: Flag | None = None) -> None:
        out = None if value is None else outside(value, band)
        if value is not None and out is not None:
            found.append(
                Finding(
                    "community", community.code, community.name, district, street.code,
                    measure, value, band, flag or out[0], round(out[1], 4), standard,
                )
            )  # fmt: skip

    households = community.households
    target = (
        f"about {policy.community_target_households:,} households / {policy.community_target_residents:,}"
    )
    if households > policy.super_community_households:
        split = Band(max=policy.super_community_households)
        judge(
            "households", households, split, f"over {split.max:,.0f} households: split it", "super_community"
        )
    else:
        band = policy.community_households
        judge(
            "households",
            households,
            band,
            f"a community: {target} residents, {_describe(band, 'households')}",
        )
    band = policy.community_residents
    judge(
        "residents",
        community.residents,
        band,
        f"a community: {target} residents, {_describe(band, 'residents')}",
    )
    workers = worker_band(households, policy)
    per = policy.households_per_worker
    judge(
        "social_workers",
        community.social_workers,
        workers,
        f"at least {policy.social_workers_min} social workers and one per "
        f"{_describe(per, 'households')}: {_describe(workers, 'workers')}",
    )
    return found
