"""Categories' Open311 attributes, and the street duty list's categories."""

from __future__ import annotations

from services.registry.city_validation.index import Problem, ValidationIndex, duplicates
from shared.city import Category, CityData

_LIST_DATATYPES = {"singlevaluelist", "multivaluelist"}


def check_categories(city: CityData) -> list[Problem]:
    problems: list[Problem] = []
    for c_i, category in enumerate(city.categories):
        problems += validate_category(category, f"categories[{c_i}]")
    return problems


def validate_category(category: Category, cp: str = "category") -> list[Problem]:
    """One category's Open311 attributes: unique codes, values for (and only for) list types."""
    problems: list[Problem] = []
    problems += duplicates(
        f"attribute (in category {category.code!r})",
        [(f"{cp}.attributes[{a_i}].code", a.code) for a_i, a in enumerate(category.attributes)],
    )
    for a_i, attr in enumerate(category.attributes):
        ap = f"{cp}.attributes[{a_i}]"
        if attr.datatype in _LIST_DATATYPES and not attr.values:
            problems.append(
                Problem(f"{ap}.values", f"attribute {attr.code!r} is a {attr.datatype} without values")
            )
        if attr.datatype not in _LIST_DATATYPES and attr.values:
            problems.append(
                Problem(
                    f"{ap}.values",
                    f"attribute {attr.code!r} is a {attr.datatype}; only lists take values",
                )
            )
        problems += duplicates(
            f"value key (in attribute {attr.code!r})",
            [(f"{ap}.values[{v_i}].key", v.key) for v_i, v in enumerate(attr.values)],
        )
    return problems


def check_duty_list(city: CityData, index: ValidationIndex) -> list[Problem]:
    problems: list[Problem] = []
    for b_i, block in enumerate(city.duty_list):
        for i_i, item in enumerate(block.items):
            for c_i, code in enumerate(item.categories):
                if code not in index.categories:
                    problems.append(
                        Problem(
                            f"duty_list[{b_i}].items[{i_i}].categories[{c_i}]",
                            f"duty item {item.code!r} lists unknown category {code!r}",
                        )
                    )
    return problems
