"""Who a community's whistle summons, and which committees a street's whistle may hand a matter to
(pure).

- A community's own whistle (社区吹哨) summons the community's street: the street's own unit the
  rules name for a matter on the street duty list, otherwise the street's desk for communities'
  whistles (`DispatchPolicy.community_whistle_desk`: unit code suffixes, first found wins; a street
  with none of them: its first office, else its first unit). The street may then whistle the
  departments itself, linked to the community's whistle.
- A matter on the community duty list (社区工作准入清单) is the community's own work: its whistle
  is refused (and audited).
- A street's whistle may hand a matter to committees of its own communities only when the matter is
  on the community duty list; anything else may not be pushed down to a community (refused and
  audited, like the street's push-down refusals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.city import CityData, DutyItem
from shared.city_index import CityIndex
from shared.errors import Unprocessable
from shared.routing import COMMUNITY, STREET, Target, route

COMMUNITY_LIST = "community duty list (社区工作准入清单)"


class CommunityOwnWork(Unprocessable):
    """A community whistled for a matter on its own duty list: refused, and audited."""


class OffCommunityList(Unprocessable):
    """A matter off the community duty list handed to a community committee: refused, and audited."""


def community_duty_item_of(city: CityData, category: str) -> DutyItem | None:
    """The community duty-list item a category belongs to, if any."""
    for block in city.community_duty_list:
        for item in block.items:
            if category in item.categories:
                return item
    return None


def street_desk(index: CityIndex, street_code: str, desk: Sequence[str]) -> str | None:
    """The street unit that takes a community's whistle for a matter off the street duty list."""
    for suffix in desk:
        code = f"{street_code}-{suffix}"
        if code in index.unit_kinds and index.owners[code].street_code == street_code:
            return code
    units = index.streets[street_code].units
    office = next((u.code for u in units if u.kind == "office"), None)
    return office or (units[0].code if units else None)


def community_whistle_targets(
    index: CityIndex, *, category: str, community_code: str, desk: Sequence[str]
) -> tuple[tuple[Target, ...], tuple[str, ...]]:
    """The street unit a community's whistle summons and why; CommunityOwnWork for its own work."""
    item = community_duty_item_of(index.city, category)
    if item is not None:
        raise CommunityOwnWork(
            f"{category} is on the {COMMUNITY_LIST} ({item.code} {item.name}): the community's own work",
            errors=[
                {
                    "field": "body.category",
                    "message": f"{category} is the community's own work on the {COMMUNITY_LIST} "
                    f"({item.code} {item.name})",
                    "type": "community_duty_list",
                }
            ],
        )
    street_code = index.community_street[community_code]
    decision = route(index, category=category, street_code=street_code, community_code=community_code)
    if decision.lead.role == STREET:
        return (decision.lead,), (*decision.reasons, f"summoned by community {community_code}")
    unit = street_desk(index, street_code, desk)
    if unit is None:
        return decision.targets, (*decision.reasons, f"street {street_code} has no unit: backstop")
    return (Target(unit, None, STREET),), (
        f"community {community_code} whistled its street {street_code}: {unit}",
    )


def committee_targets(
    index: CityIndex, *, category: str, street_code: str, communities: Sequence[str]
) -> tuple[Target, ...]:
    """The committees a street's whistle hands the matter to; every problem at once.

    OffCommunityList when the matter is not on the community duty list."""
    if not communities:
        return ()
    errors: list[dict[str, Any]] = []
    targets: list[Target] = []
    for i, code in enumerate(communities):
        where = index.community_street.get(code)
        if where is None:
            errors.append({"field": f"body.communities.{i}", "message": f"unknown community {code!r}"})
        elif where != street_code:
            errors.append(
                {"field": f"body.communities.{i}", "message": f"community {code} is not in {street_code}"}
            )
        elif index.committees[code] not in {t.unit_code for t in targets}:
            targets.append(Target(index.committees[code], None, COMMUNITY))
    if errors:
        raise Unprocessable("The whistle names communities that cannot answer it.", errors=errors)
    if category not in index.community_duty_categories:
        raise OffCommunityList(
            f"{category} is not on the {COMMUNITY_LIST}: it may not be handed to a community committee",
            errors=[
                {
                    "field": "body.communities",
                    "message": f"{category} is not on the {COMMUNITY_LIST}; "
                    "a community committee may not be handed it",
                    "type": "community_duty_list",
                }
            ],
        )
    return tuple(targets)
