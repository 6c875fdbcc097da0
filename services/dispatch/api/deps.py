"""What dispatch's endpoints share: who may call, the city copy, the actor of an action."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Header, Request

from services.dispatch.assignments import Actor, Work
from services.dispatch.models import Assignment
from services.dispatch.schemas import LocationIn
from services.dispatch.wakeups import Wakeups
from shared.access import Owner, Principal, may_act_for_assignment
from shared.auth import require
from shared.city_index import CityIndex
from shared.errors import Unprocessable
from shared.runtime import Runtime
from shared.snapshot_cache import SnapshotCache

Reader = Annotated[Principal, require("complaints:read")]
QueueReader = Annotated[Principal, require("queue:read")]
Worker = Annotated[Principal, require("queue:write")]
Blower = Annotated[Principal, require("whistle:blow")]
Caller = Annotated[Principal, require()]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="a retry with the same key gets the same answer")
]


def city_index(request: Request) -> CityIndex:
    """The city copy (503 until it is loaded)."""
    cache: SnapshotCache = request.app.state.snapshot
    return cache.require().index


def wakeups(request: Request) -> Wakeups:
    return request.app.state.wakeups


def owner_checks(index: CityIndex, unit_code: str) -> tuple[Owner | None, str | None]:
    """Whose a unit is, and the district whose backstop it is (if it is one)."""
    backstop_of = next((d for d, code in index.backstops.items() if code == unit_code), None)
    return index.owners.get(unit_code), backstop_of


def actor(request: Request, principal: Principal, worker: str | None) -> Actor:
    index = city_index(request)

    def may_act(a: Assignment) -> bool:
        owner, backstop_of = owner_checks(index, a.unit_code)
        return may_act_for_assignment(principal, owner, backstop_of=backstop_of)

    return Actor(principal=principal, worker=worker, may_act=may_act)


def work(request: Request, runtime: Runtime) -> Work:
    return Work(index=city_index(request), outbox=runtime.outbox)


def check_place_within(
    request: Request, location: LocationIn, *, level: Literal["street", "community"], code: str
) -> None:
    """The place of a street's or a community's own whistle lies in that street or community
    (`level`: `street` or `community`); 422 naming the field otherwise. A location giving neither
    a community nor a point is left to the schema."""
    locator = request.app.state.snapshot.require().locator
    if location.community_code is not None:
        place = locator.by_code(location.community_code)
        field = "body.location.community_code"
    elif location.lat is not None and location.lon is not None:
        place = locator.locate(location.lon, location.lat)
        field = "body.location"
    else:
        return
    if place is None or getattr(place, f"{level}_code") != code:
        raise Unprocessable(
            f"The whistle's place is not in this {level}.",
            errors=[{"field": field, "message": f"not in {level} {code}", "type": "location"}],
        )
