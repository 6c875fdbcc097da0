"""The community level: the community duty list (社区工作准入清单), sub-areas inside their community
(居民小组, 楼门院), and clients bound to a community."""

from __future__ import annotations

from collections.abc import Sequence

from shapely import Polygon

from services.registry.city_validation.index import Problem, ValidationIndex, duplicates, polygon_problems
from shared.city import CityData, Client, Community

INSIDE_TOLERANCE = 1e-9
"""Degrees: a sub-area drawn along its community's edge is inside it."""


def check_community_duty_list(city: CityData, index: ValidationIndex) -> list[Problem]:
    """Codes unique within the list, every category known."""
    problems: list[Problem] = []
    blocks: list[tuple[str, str]] = []
    items: list[tuple[str, str]] = []
    for b_i, block in enumerate(city.community_duty_list):
        bp = f"community_duty_list[{b_i}]"
        blocks.append((f"{bp}.code", block.code))
        for i_i, item in enumerate(block.items):
            items.append((f"{bp}.items[{i_i}].code", item.code))
            for c_i, code in enumerate(item.categories):
                if code not in index.categories:
                    problems.append(
                        Problem(
                            f"{bp}.items[{i_i}].categories[{c_i}]",
                            f"community duty item {item.code!r} lists unknown category {code!r}",
                        )
                    )
    return duplicates("community duty block", blocks) + duplicates("community duty item", items) + problems


def check_sub_areas(city: CityData) -> list[Problem]:
    """Sub-area codes unique across the city; each polygon valid and inside its community."""
    problems: list[Problem] = []
    codes: list[tuple[str, str]] = []
    for d_i, district in enumerate(city.districts):
        for s_i, street in enumerate(district.streets):
            for c_i, community in enumerate(street.communities):
                path = f"districts[{d_i}].streets[{s_i}].communities[{c_i}]"
                codes += [
                    (f"{path}.sub_areas[{a_i}].code", a.code) for a_i, a in enumerate(community.sub_areas)
                ]
                problems += sub_area_problems(community, path)
    return duplicates("sub-area", codes) + problems


def sub_area_problems(community: Community, path: str = "") -> list[Problem]:
    """The sub-areas of one community: codes unique, polygons valid and inside the community."""
    prefix = f"{path}." if path else ""
    problems = duplicates(
        "sub-area", [(f"{prefix}sub_areas[{i}].code", a.code) for i, a in enumerate(community.sub_areas)]
    )
    if path:
        problems = []  # the city-wide check reports repeats
    if not any(area.polygon is not None for area in community.sub_areas):
        return problems
    outline: Polygon | None = None
    if not polygon_problems(community.polygon, "polygon"):
        outline = Polygon(community.polygon).buffer(INSIDE_TOLERANCE)
    for i, area in enumerate(community.sub_areas):
        if area.polygon is None:
            continue
        where = f"{prefix}sub_areas[{i}].polygon"
        found = polygon_problems(area.polygon, where)
        if found:
            problems += found
        elif outline is not None and not outline.covers(Polygon(area.polygon)):
            problems.append(
                Problem(where, f"sub-area {area.code!r} is not inside community {community.code!r}")
            )
    return problems


def check_community_clients(clients: Sequence[Client], index: ValidationIndex) -> list[Problem]:
    problems: list[Problem] = []
    for i, client in enumerate(clients):
        cp = f"clients[{i}]"
        if client.community is not None and client.community not in index.city.communities:
            problems.append(
                Problem(
                    f"{cp}.community",
                    f"client {client.client_id!r} names unknown community {client.community!r}",
                )
            )
        if client.kind == "community" and client.community is None:
            problems.append(
                Problem(f"{cp}.community", f"community client {client.client_id!r} names no community")
            )
    return problems
