"""Where is it, and who would answer it: `resolve` and `route` over the current snapshot (pure)."""

from __future__ import annotations

from datetime import datetime

from services.registry.lookup_schemas import (
    Named,
    ResolvedStreet,
    ResolveIn,
    ResolveOut,
    RouteIn,
    RouteOut,
    RouteTarget,
    RuleMatch,
)
from services.registry.snapshots import BuiltSnapshot
from shared.city import Rule
from shared.errors import Unprocessable
from shared.routing import RouteDecision, route


def resolve(built: BuiltSnapshot, body: ResolveIn) -> ResolveOut:
    """The community, street and district of a point or a community code; 422 when there is none."""
    if body.community_code is not None:
        place = built.locator.by_code(body.community_code)
        if place is None:
            raise Unprocessable(
                f"unknown community {body.community_code!r}",
                errors=[{"field": "community_code", "message": f"unknown community {body.community_code!r}"}],
            )
    else:
        assert body.lat is not None and body.lon is not None
        place = built.locator.locate(body.lon, body.lat)
        if place is None:
            message = (
                f"the point (lat {body.lat}, lon {body.lon}) is outside the city: no community covers it"
            )
            raise Unprocessable(message, errors=[{"field": "lat,lon", "message": message}])
    names = built.directory
    street_name, street_kind = names.streets[place.street_code]
    return ResolveOut(
        community=Named(code=place.community_code, name=names.communities[place.community_code]),
        street=ResolvedStreet(code=place.street_code, name=street_name, kind=street_kind),
        district=Named(code=place.district_code, name=names.districts[place.district_code]),
        snapshot_version=built.version,
    )


def route_explained(built: BuiltSnapshot, body: RouteIn, *, now: datetime) -> RouteOut:
    """The units that would be dispatched, the reasons, and every rule that matched."""
    index = built.index
    problems = []
    if body.category not in index.categories:
        problems.append({"field": "category", "message": f"unknown category {body.category!r}"})
    if body.street_code not in index.street_district:
        problems.append({"field": "street_code", "message": f"unknown street {body.street_code!r}"})
    if problems:
        raise Unprocessable("; ".join(p["message"] for p in problems), errors=problems)
    at = body.at or now
    decision = route(
        index, category=body.category, street_code=body.street_code, exclude=frozenset(body.exclude), at=at
    )
    candidates = list(index.candidates(body.category, body.street_code, at))
    return RouteOut(
        category=body.category,
        street_code=body.street_code,
        district_code=index.street_district[body.street_code],
        at=at,
        snapshot_version=built.version,
        targets=[
            RouteTarget(
                unit_code=t.unit_code,
                name=built.directory.units.get(t.unit_code, t.unit_code),
                department_code=t.department_code,
                role=t.role,
            )
            for t in decision.targets
        ],
        reasons=list(decision.reasons),
        refused_pushdown=decision.refused_pushdown,
        rules=[
            RuleMatch(
                rule=rule.model_dump(mode="json"), applied=i == 0, why=_why(rule, i, candidates, decision)
            )
            for i, rule in enumerate(candidates)
        ],
    )


def _why(rule: Rule, position: int, candidates: list[Rule], decision: RouteDecision) -> str:
    if position > 0:
        return f"in force and in scope, but {candidates[0].describe()} is more specific"
    scope = "the street" if rule.street else "the district" if rule.district else "the whole city"
    if decision.refused_pushdown:
        return (
            f"the most specific rule in force (for {scope}); it would push an off-list matter down to "
            "the street, so it was refused"
        )
    return f"the most specific rule in force (for {scope})"
