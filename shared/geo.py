"""Where a complaint is: point-in-polygon over the city's communities (shapely STRtree)."""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely import STRtree

from shared.city import CityData


@dataclass(frozen=True)
class Place:
    community_code: str
    street_code: str
    district_code: str


class Locator:
    def __init__(self, city: CityData) -> None:
        places: list[Place] = []
        polygons = []
        for district in city.districts:
            for street in district.streets:
                for community in street.communities:
                    places.append(Place(community.code, street.code, district.code))
                    polygons.append(shapely.Polygon(community.polygon))
        self._places = places
        self._polygons = polygons
        self._by_code = {p.community_code: p for p in places}
        self._tree = STRtree(polygons)

    def by_code(self, community_code: str) -> Place | None:
        return self._by_code.get(community_code)

    def locate(self, lon: float, lat: float) -> Place | None:
        """The community whose polygon covers the point (boundaries included), or None."""
        point = shapely.Point(lon, lat)
        for i in self._tree.query(point, predicate="intersects"):
            return self._places[int(i)]
        return None
