"""Codes unique within their kind (and attribute codes and value keys within a category)."""

from __future__ import annotations

from services.registry.city_validation.index import Problem, duplicates
from shared.city import CityData


def check_duplicate_codes(city: CityData) -> list[Problem]:
    Entries = list[tuple[str, str]]
    districts: Entries = []
    backstops: Entries = []
    streets: Entries = []
    units: Entries = []
    communities: Entries = []
    for d_i, district in enumerate(city.districts):
        dp = f"districts[{d_i}]"
        districts.append((f"{dp}.code", district.code))
        backstops.append((f"{dp}.backstop.code", district.backstop.code))
        for s_i, street in enumerate(district.streets):
            sp = f"{dp}.streets[{s_i}]"
            streets.append((f"{sp}.code", street.code))
            units += [(f"{sp}.units[{u_i}].code", u.code) for u_i, u in enumerate(street.units)]
            communities += [
                (f"{sp}.communities[{c_i}].code", c.code) for c_i, c in enumerate(street.communities)
            ]
    departments: Entries = []
    agencies: Entries = []
    for p_i, dept in enumerate(city.departments):
        departments.append((f"departments[{p_i}].code", dept.code))
        agencies += [
            (f"departments[{p_i}].agencies[{a_i}].code", a.code) for a_i, a in enumerate(dept.agencies)
        ]
    blocks: Entries = []
    items: Entries = []
    for b_i, block in enumerate(city.duty_list):
        blocks.append((f"duty_list[{b_i}].code", block.code))
        items += [(f"duty_list[{b_i}].items[{i_i}].code", item.code) for i_i, item in enumerate(block.items)]
    problems = (
        duplicates("district", districts)
        + duplicates("backstop", backstops)
        + duplicates("street", streets)
        + duplicates("street unit", units)
        + duplicates("community", communities)
        + duplicates("department", departments)
        + duplicates("agency", agencies)
        + duplicates("category", [(f"categories[{i}].code", c.code) for i, c in enumerate(city.categories)])
        + duplicates("duty block", blocks)
        + duplicates("duty item", items)
        + duplicates("client", [(f"clients[{i}].client_id", c.client_id) for i, c in enumerate(city.clients)])
    )
    return problems
