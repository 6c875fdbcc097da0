"""Returns (退单) and where a returned order goes next (pure).

- A unit returns an open order with a reason (not_our_duty, wrong_area, duplicate, other). The
  district backstop may not return (the state machine refuses it), and a street's own unit may not
  return a matter on the street duty list: that is the street's own work (422 naming the duty item).
- The order is re-routed by the routing rules with every unit that has returned this complaint
  excluded. A returned lead (or street unit) is replaced by the new route's lead; a returned
  co-department by an agency of the same department kind, if the route has one.
- Returns are counted per complaint (every round). Once they reach the bounce limit of the dispatch
  policy in force when the whistle was issued (default 2), a returned answering unit is replaced by
  the district backstop and a returned co-department is not replaced.
- A target already on the whistle is not summoned twice: a lead that would be a unit already
  helping goes to the backstop instead; a backstop already on the whistle (it joined after a
  breach) becomes the answering unit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from shared.city import CityData, DutyItem
from shared.errors import Unprocessable
from shared.routing import ANSWERING_ROLES, BACKSTOP, CO, STREET, RouteDecision, Target


def duty_item_of(city: CityData, category: str) -> DutyItem | None:
    """The street duty-list item a category belongs to, if any."""
    for block in city.duty_list:
        for item in block.items:
            if category in item.categories:
                return item
    return None


def check_may_return(*, role: str, category: str, city: CityData) -> None:
    """A street unit may not return a matter on the street duty list."""
    if role != STREET:
        return
    item = duty_item_of(city, category)
    if item is not None:
        raise Unprocessable(
            f"{category} is on the street duty list ({item.code} {item.name}): the street's own work",
            errors=[
                {
                    "field": "reason",
                    "message": f"{category} is on the street duty list as {item.code} ({item.name}); "
                    "a street may not return it",
                    "type": "duty_list",
                }
            ],
        )


@dataclass(frozen=True)
class Reroute:
    """Where a returned order goes: `target`, why, and whether it is the backstop. `existing`: the
    target already has an assignment on the whistle, which becomes the answering one."""

    target: Target
    reason: str
    to_backstop: bool
    existing: bool = False


def where_next(
    *,
    returned: Target,
    decision: RouteDecision,
    backstop: Target,
    returns: int,
    bounce_limit: int,
    on_whistle: Collection[str],
    department_kinds: Mapping[str, str],
) -> Reroute | None:
    """Where the order `returned` gave back goes (None: a co-department is not replaced).

    `decision` is the route with every returning unit excluded, `returns` the complaint's returns
    including this one, `on_whistle` the units the whistle already summoned (open or not)."""
    if returned.role in ANSWERING_ROLES:
        if returns >= bounce_limit:
            why = f"{returns} returns reach the bounce limit of {bounce_limit}: district backstop"
            return _to_backstop(backstop, why, on_whistle)
        lead = decision.lead
        if lead.role == BACKSTOP:
            return _to_backstop(backstop, "; ".join(decision.reasons), on_whistle)
        if lead.unit_code in on_whistle:
            return _to_backstop(
                backstop, f"{lead.unit_code} is already on this whistle: backstop", on_whistle
            )
        return Reroute(lead, "; ".join(decision.reasons), to_backstop=False)
    if returns >= bounce_limit:
        return None
    kind = department_kinds.get(returned.department_code or "")
    for target in decision.targets:
        if (
            target.department_code is not None
            and department_kinds.get(target.department_code) == kind
            and target.unit_code not in on_whistle
        ):
            return Reroute(
                Target(target.unit_code, target.department_code, CO), f"co {kind}: {target.unit_code}", False
            )
    return None


def _to_backstop(backstop: Target, reason: str, on_whistle: Collection[str]) -> Reroute:
    return Reroute(backstop, reason, to_backstop=True, existing=backstop.unit_code in on_whistle)
