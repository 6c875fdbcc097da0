"""Community polygons: closed rings, WGS84, valid, and no two communities overlapping."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely import Polygon, STRtree

from services.registry.city_validation.index import (
    CommunityShape,
    CommunityShapes,
    Problem,
    ValidationIndex,
    polygon_problems,
)
from shared.city import Point


def validate_polygon(ring: Sequence[Point], path: str = "polygon") -> list[Problem]:
    """A community polygon on its own: closed ring, WGS84 coordinates, valid and not self-intersecting."""
    return polygon_problems(ring, path)


def find_overlaps(shapes: Sequence[CommunityShape]) -> list[Problem]:
    """Pairs of communities whose interiors intersect (touching along edges or at points is fine).

    Uses an STRtree: the 7,000 communities of a Beijing-size city are checked in well under a second.
    Each overlapping pair is reported once, at the later community's path.
    """
    if len(shapes) < 2:
        return []
    tree = STRtree([s.polygon for s in shapes])
    geoms = tree.geometries
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return []
    overlapping = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    problems: list[Problem] = []
    for a, b in sorted(
        zip(left[overlapping].tolist(), right[overlapping].tolist(), strict=True), key=lambda p: p[::-1]
    ):
        first, second = shapes[a], shapes[b]
        problems.append(
            Problem(
                second.path, f"community {second.code!r} overlaps community {first.code!r} ({first.path})"
            )
        )
    return problems


def validate_community_polygon(
    ring: Sequence[Point],
    against: CommunityShapes | ValidationIndex,
    path: str = "polygon",
    code: str | None = None,
) -> list[Problem]:
    """A new or changed community polygon against existing communities: valid, and not overlapping
    any other community (the community `code` itself, when it is being replaced, is ignored)."""
    shapes = against.shapes if isinstance(against, ValidationIndex) else against
    problems = polygon_problems(ring, path)
    if problems or not shapes.communities:
        return problems
    polygon = Polygon(ring)
    for i in shapes.tree.query(polygon, predicate="intersects").tolist():
        other = shapes.communities[i]
        if other.code != code and polygon.relate_pattern(other.polygon, "T********"):
            problems.append(Problem(path, f"polygon overlaps community {other.code!r} ({other.path})"))
    return problems


def check_geography(index: ValidationIndex) -> list[Problem]:
    """Invalid community polygons (found while indexing) and overlapping communities."""
    return index.polygon_problems + find_overlaps(index.communities)
