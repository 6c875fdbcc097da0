"""Departments and agencies: parents (and no parent cycles), agency districts and served streets."""

from __future__ import annotations

from collections.abc import Sequence

from services.registry.city_validation.index import Problem, ValidationIndex
from shared.city import CityData, Department


def check_departments(city: CityData, index: ValidationIndex) -> list[Problem]:
    problems: list[Problem] = []
    for p_i, dept in enumerate(city.departments):
        dp = f"departments[{p_i}]"
        if dept.parent is not None and dept.parent not in index.departments:
            problems.append(
                Problem(f"{dp}.parent", f"department {dept.code!r} has unknown parent {dept.parent!r}")
            )
        for a_i, agency in enumerate(dept.agencies):
            ap = f"{dp}.agencies[{a_i}]"
            if agency.district not in index.district_streets:
                problems.append(
                    Problem(
                        f"{ap}.district", f"agency {agency.code!r} names unknown district {agency.district!r}"
                    )
                )
            for v_i, street in enumerate(agency.serves):
                where = index.street_district.get(street)
                if where is None:
                    problems.append(
                        Problem(
                            f"{ap}.serves[{v_i}]", f"agency {agency.code!r} serves unknown street {street!r}"
                        )
                    )
                elif (
                    dept.level == "district"
                    and agency.district in index.district_streets
                    and where != agency.district
                ):
                    problems.append(
                        Problem(
                            f"{ap}.serves[{v_i}]",
                            f"agency {agency.code!r} of district-level department {dept.code!r} serves "
                            f"street {street!r} of district {where!r}, "
                            f"not its own district {agency.district!r}",
                        )
                    )
    problems += _parent_cycles(city.departments)
    return problems


def _parent_cycles(departments: Sequence[Department]) -> list[Problem]:
    position: dict[str, int] = {}
    for i, dept in enumerate(departments):
        position.setdefault(dept.code, i)
    parent = {d.code: d.parent for d in departments}
    reported: set[frozenset[str]] = set()
    problems: list[Problem] = []
    for dept in departments:
        chain: list[str] = []
        seen: set[str] = set()
        code: str | None = dept.code
        while code is not None and code in parent and code not in seen:
            seen.add(code)
            chain.append(code)
            code = parent[code]
        if code is None or code not in seen:
            continue
        cycle = chain[chain.index(code) :]
        key = frozenset(cycle)
        if key in reported:
            continue
        reported.add(key)
        start = min(cycle, key=lambda c: position[c])
        at = cycle.index(start)
        ordered = cycle[at:] + cycle[:at] + [start]
        problems.append(
            Problem(
                f"departments[{position[start]}].parent",
                "department parents form a cycle: " + " → ".join(ordered),
            )
        )
    return problems
