"""Where residents call from: points inside the city's communities, more calls from communities
with more households, and a repeat call a few dozen metres from the first."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import shapely

from shared.city import CityData

METRES_PER_DEGREE = 111_320
NEAR_METRES = 40


@dataclass(frozen=True)
class Spot:
    community_code: str
    street_code: str
    district_code: str
    lon: float
    lat: float


@dataclass(frozen=True)
class _Community:
    code: str
    street_code: str
    district_code: str
    polygon: shapely.Polygon


class Places:
    def __init__(self, city: CityData) -> None:
        self._communities: list[_Community] = []
        weights: list[float] = []
        for district in city.districts:
            for street in district.streets:
                for c in street.communities:
                    self._communities.append(
                        _Community(c.code, street.code, district.code, shapely.Polygon(c.polygon))
                    )
                    weights.append(float(max(c.households, 1)))
        if not self._communities:
            raise ValueError("the city has no communities to place complaints in")
        self._weights = weights
        self._by_street: dict[str, list[_Community]] = {}
        for community in self._communities:
            self._by_street.setdefault(community.street_code, []).append(community)

    @property
    def households(self) -> int:
        return int(sum(self._weights))

    def anywhere(self, rng: random.Random) -> Spot:
        """A point in a community drawn by its households."""
        return self._inside(rng, rng.choices(self._communities, self._weights)[0])

    def in_street(self, rng: random.Random, street_code: str) -> Spot:
        return self._inside(rng, rng.choice(self._by_street[street_code]))

    def near(self, rng: random.Random, spot: Spot) -> Spot:
        """A point within `NEAR_METRES` of `spot`, in the same community (the same matter)."""
        community = next(c for c in self._by_street[spot.street_code] if c.code == spot.community_code)
        for _ in range(20):
            distance = rng.uniform(0, NEAR_METRES) / METRES_PER_DEGREE
            angle = rng.uniform(0, 2 * math.pi)
            lon = spot.lon + distance * math.cos(angle) / math.cos(math.radians(spot.lat))
            lat = spot.lat + distance * math.sin(angle)
            if community.polygon.contains(shapely.Point(lon, lat)):
                return Spot(
                    spot.community_code, spot.street_code, spot.district_code, round(lon, 6), round(lat, 6)
                )
        return spot

    def _inside(self, rng: random.Random, community: _Community) -> Spot:
        west, south, east, north = community.polygon.bounds
        for _ in range(200):
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
            if community.polygon.contains(shapely.Point(lon, lat)):
                break
        else:
            point = community.polygon.representative_point()
            lon, lat = point.x, point.y
        return Spot(
            community.code, community.street_code, community.district_code, round(lon, 6), round(lat, 6)
        )
