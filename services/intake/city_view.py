"""What intake needs from the registry snapshot, as lookup tables built once per version (pure).

Unit names for residents (`agency_responsible`, timeline notes), categories with their Open311
attribute definitions, a place's address in words, each community's representative point (where a
complaint placed by community code or address is shown), and finding a community named in an
address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from math import asin, cos, radians, sin, sqrt

import shapely

from services.intake.open311.documents import AttributeDef, ServiceInfo
from shared.city import Category, CityData
from shared.city_index import CityIndex
from shared.geo import Place

EARTH_RADIUS_M = 6_371_008.8


def distance_meters(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two WGS84 points."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    h = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def degree_box(lat: float, meters: float) -> tuple[float, float]:
    """Half-sizes (in degrees of latitude, longitude) of a box holding every point within `meters`."""
    dlat = meters / 111_320.0
    dlon = meters / (111_320.0 * max(0.01, cos(radians(lat))))
    return dlat, dlon


def representative_point(polygon: list[tuple[float, float]]) -> tuple[float, float]:
    """A point inside a (lon, lat) polygon, as (lat, lon) to 6 decimals (about 0.1 m)."""
    point = shapely.Polygon(polygon).representative_point()
    return round(point.y, 6), round(point.x, 6)


def attribute_defs(category: Category) -> list[AttributeDef]:
    return [
        AttributeDef(
            variable=True,
            code=a.code,
            datatype=a.datatype,
            required=a.required,
            order=a.order,
            description=a.description,
            values=[(v.key, v.name) for v in a.values],
        )
        for a in category.attributes
    ]


@dataclass
class CityView:
    """The city index (shared with routing and access), plus what intake alone needs: places in
    words and community names to find in an address."""

    index: CityIndex
    place_names: dict[str, str] = field(default_factory=dict)
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    _community_names: list[tuple[str, str, str]] = field(default_factory=list)

    @classmethod
    def build(cls, index: CityIndex) -> CityView:
        view = cls(index=index)
        for district in index.city.districts:
            for street in district.streets:
                for community in street.communities:
                    view.place_names[community.code] = f"{district.name}{street.name}{community.name}"
                    view.points[community.code] = representative_point(community.polygon)
                    view._community_names.append((community.name, street.name, community.code))
        # Longest names first, so "二社区" inside "十二社区" does not win.
        view._community_names.sort(key=lambda entry: -len(entry[0]))
        return view

    @property
    def version(self) -> int:
        return self.index.version

    @property
    def city(self) -> CityData:
        return self.index.city

    @property
    def categories(self) -> Mapping[str, Category]:
        return self.index.categories

    @property
    def jurisdiction(self) -> str:
        return self.city.city.code

    def unit_name(self, code: str | None) -> str | None:
        return self.index.unit_name(code)

    def address_of(self, place: Place | None, community_code: str | None = None) -> str | None:
        """The place in words (district, street, community): never the resident's own address text."""
        code = place.community_code if place else community_code
        return self.place_names.get(code) if code else None

    def point_of(self, community_code: str | None) -> tuple[float, float] | None:
        """The community's representative point (lat, lon): inside it, the same on every read."""
        return self.points.get(community_code) if community_code else None

    def community_in_address(self, address: str) -> str | None:
        """The community an address names (preferring one whose street it also names), or None."""
        text = address.replace(" ", "")
        named = [(c, s, code) for c, s, code in self._community_names if c and c in text]
        if not named:
            return None
        with_street = [code for c, s, code in named if s in text]
        if with_street:
            return with_street[0]
        longest = len(named[0][0])
        codes = {code for name, _, code in named if len(name) == longest}
        return named[0][2] if len(codes) == 1 else None

    def services(self) -> list[ServiceInfo]:
        return [
            ServiceInfo(
                code=c.code,
                name=c.name,
                description=c.description or c.name_en or None,
                metadata=bool(c.attributes),
                type="realtime",
                keywords=c.keywords,
                group=c.group or None,
            )
            for c in self.city.categories
        ]


class CityViews:
    """The view of the city copy a cache currently holds, rebuilt when its index changes."""

    def __init__(self) -> None:
        self._view: CityView | None = None
        self.built_at = datetime.now(UTC)  # when this API last changed (Open311 `changeset`)

    def of(self, index: CityIndex) -> CityView:
        view = self._view
        if view is None or view.index is not index:
            view = self._view = CityView.build(index)
            self.built_at = datetime.now(UTC)
        return view
