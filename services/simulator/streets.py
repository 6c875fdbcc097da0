"""The simulated streets: they blow their own whistles (吹哨) for matters they cannot solve alone,
summoning the departments the rules name, and at the end of the day score each agency that
worked their matters (考核评价) by how much of its work came in on time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from services.simulator.arrivals import arrival_times
from services.simulator.workers import evaluation_score
from services.simulator.world import Case, World
from services.sla.periods import period_of

STREET_WHISTLE_SHARE = 0.01
"""Streets' own whistles beside the hotline's complaints (a day's count, as a share of its volume)."""


def summoning_categories(world: World) -> list[str]:
    """Categories off the street duty list that a rule hands to a lead department."""
    found = []
    for code in sorted(world.index.categories):
        if code in world.index.duty_categories:
            continue
        if any(rule.lead for rule in world.index.rules.get(code, ())):
            found.append(code)
    return found


def whistle_times(world: World, *, volume_per_day: float, start_hour: float, hours: float) -> list[float]:
    per_day = max(float(len(world.index.streets)), volume_per_day * STREET_WHISTLE_SHARE)
    return arrival_times(world.rng, volume_per_day=per_day, start_hour=start_hour, hours=hours)


async def blow_whistles(world: World, times: Sequence[float]) -> None:
    categories = summoning_categories(world)
    streets = sorted(s for s in world.index.streets if f"street-{s}" in world.clients)
    if not categories or not streets:
        return
    for t in times:
        await world.clock.until(t)
        if world.stopping.is_set():
            return
        world.spawn(blow(world, world.rng.choice(streets), world.rng.choice(categories)))


async def blow(world: World, street_code: str, category: str) -> None:
    spot = world.places.in_street(world.rng, street_code)
    answer = await world.api.call(
        "dispatch",
        f"street-{street_code}",
        "POST",
        f"/v1/streets/{street_code}/whistles",
        json={
            "category": category,
            "description": f"{world.index.categories[category].name}问题，街道需部门到场",
            "location": {"community_code": spot.community_code, "lat": spot.lat, "lon": spot.lon},
            "departments": [],
            "reason": "街道无执法权，需部门报到",
        },
    )
    if answer.status != 201:
        world.ledger.refused[f"street_whistle {answer.status}"] += 1
        return
    whistle = answer.body
    world.ledger.street_whistles[whistle["id"]] = whistle["complaint_id"]
    world.cases[whistle["complaint_id"]] = Case(
        whistle["complaint_id"], category, whistle["urgency"], street_code, whistle["district_code"]
    )


async def evaluate_agencies(world: World) -> None:
    """Each street scores each agency it saw at work during the run, for the current period."""
    period = str(period_of(datetime.now(UTC)))

    async def evaluate(street_code: str, unit_code: str, on_time: list[bool]) -> None:
        score = evaluation_score(world.rng, on_time_share=sum(on_time) / len(on_time))
        answer = await world.api.call(
            "sla",
            f"street-{street_code}",
            "POST",
            "/v1/evaluations",
            json={"unit_code": unit_code, "period": period, "score": score, "comment": "模拟考核"},
        )
        if answer.ok:
            world.ledger.evaluations += 1

    await asyncio.gather(
        *(
            evaluate(street, unit, on_time)
            for (street, unit), on_time in sorted(world.ledger.on_time.items())
            if f"street-{street}" in world.clients and on_time
        )
    )
