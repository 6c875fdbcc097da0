"""The simulated hotline: it files each call as a complaint when it comes in, and calls residents
back (回访) some hours after their complaint is answered — how satisfied they are depends on
whether it was handled in time; an unsatisfied resident's complaint goes round again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.simulator.arrivals import Call
from services.simulator.orders import Orders, follow
from services.simulator.places import Spot
from services.simulator.summary import Filing
from services.simulator.workers import follow_up_delay, follow_up_result
from services.simulator.world import Case, World
from shared.city import Category
from shared.routing import route

POLL_SECONDS = 1.0


def attributes_for(category: Category, spot: Spot) -> dict[str, Any]:
    """An answer to each question the category requires."""
    answers: dict[str, Any] = {}
    for a in category.attributes:
        if not a.required:
            continue
        if a.datatype in ("singlevaluelist", "multivaluelist"):
            first = a.values[0].key if a.values else "other"
            answers[a.code] = [first] if a.datatype == "multivaluelist" else first
        elif a.datatype == "number":
            answers[a.code] = "16"
        elif a.datatype == "datetime":
            answers[a.code] = datetime.now(UTC).isoformat(timespec="seconds")
        else:
            answers[a.code] = f"{spot.community_code} 3号楼附近"
    return answers


def needs_a_desk(world: World, case: Case, community_code: str) -> bool:
    """Whether the rules send the matter to a unit without a claim queue (the street's own, a
    committee, the backstop), which learns of it from the complaint's whistle."""
    decision = route(
        world.index, category=case.category, street_code=case.street_code, community_code=community_code
    )
    return any(t.department_code is None for t in decision.targets)


class Hotline:
    def __init__(self, world: World, orders: Orders, *, run_id: str) -> None:
        self.world = world
        self.orders = orders
        self.run_id = run_id
        self.spots: list[Spot] = []
        self.called_back: set[str] = set()
        self._filing: set[asyncio.Task[None]] = set()

    async def drain(self) -> None:
        """Let the calls being filed finish (their answer decides whether they were filed)."""
        await asyncio.gather(*self._filing, return_exceptions=True)

    async def take_calls(self, calls: Sequence[Call]) -> None:
        for n, call in enumerate(calls):
            await self.world.clock.until(call.at)
            if self.world.stopping.is_set():
                return
            spot = (
                self.world.places.near(self.world.rng, self.spots[call.duplicate_of])
                if call.duplicate_of is not None
                else self.world.places.anywhere(self.world.rng)
            )
            self.spots.append(spot)
            task = asyncio.create_task(self.file(n, call, spot))
            self._filing.add(task)
            task.add_done_callback(self._filing.discard)

    async def file(self, n: int, call: Call, spot: Spot) -> None:
        category = self.world.index.categories[call.category]
        body: dict[str, Any] = {
            "source": "hotline",
            "source_ref": f"sim-{self.run_id}-{n:06d}",
            "category": call.category,
            "description": f"{category.name}问题，请尽快处理",
            "location": {"lat": spot.lat, "lon": spot.lon},
            "attributes": attributes_for(category, spot),
            "reporter": {"name": f"市民{n % 1000:03d}", "phone": f"1380000{n % 10000:04d}"},
        }
        if call.urgency is not None:
            body["urgency"] = call.urgency
        answer = await self.world.api.call("intake", "hotline", "POST", "/v1/complaints", json=body)
        if answer.status not in (200, 201):
            self.world.ledger.refused[str(answer.status)] += 1
            return
        filed = answer.body
        case = Case(
            filed["id"], call.category, filed["urgency"], filed["street_code"], filed["district_code"]
        )
        self.world.cases[case.complaint_id] = case
        merged = filed.get("merged_into") is not None
        self.world.ledger.filings[case.complaint_id] = Filing(
            case.complaint_id, call.at, call.category, case.urgency, case.street_code, merged=merged
        )
        if not merged and needs_a_desk(self.world, case, filed["community_code"]):
            case.followed = True
            self.world.spawn(follow(self.world, self.orders, case))

    async def call_back_when_answered(self) -> None:
        """Watch for answered complaints of the run and call each resident back after a while."""
        since = self.world.clock.started_at.isoformat()
        while not self.world.stopping.is_set():
            cursor: str | None = None
            while True:
                params: dict[str, Any] = {"status": "resolved", "created_from": since, "limit": 200}
                if cursor:
                    params["cursor"] = cursor
                answer = await self.world.api.call(
                    "intake", "hotline", "GET", "/v1/complaints", params=params
                )
                if not answer.ok:
                    break
                for complaint in answer.body["items"]:
                    key = complaint["id"]
                    if key in self.world.ledger.filings and key not in self.called_back:
                        self.called_back.add(key)
                        self.world.spawn(self.call_back(key))
                cursor = answer.body.get("next_cursor")
                if not cursor:
                    break
            await self.world.clock.pause(POLL_SECONDS)

    async def call_back(self, complaint_id: str) -> None:
        world = self.world
        await world.clock.sleep(follow_up_delay(world.rng, world.behaviour))
        clocks = await world.api.call(
            "sla", "viewer", "GET", "/v1/clocks", params={"complaint_id": complaint_id}
        )
        resolved, satisfaction = follow_up_result(
            world.rng, on_time=_on_time(clocks.body if clocks.ok else [])
        )
        answer = await world.api.call(
            "intake",
            "hotline",
            "POST",
            f"/v1/complaints/{complaint_id}/feedback",
            json={"resolved": resolved, "satisfaction": satisfaction},
        )
        if not answer.ok:
            self.called_back.discard(complaint_id)
            return
        status = answer.body["status"]
        world.ledger.follow_ups[status] += 1
        if status != "closed":
            case = world.cases[complaint_id]
            case.round += 1
            self.called_back.discard(complaint_id)
            if case.followed:
                await follow(world, self.orders, case)


def _on_time(clocks: list[dict[str, Any]]) -> bool:
    """No clock of the complaint's latest round went past its deadline."""
    if not clocks:
        return True
    latest = max(clocks, key=lambda c: c["started_at"])["whistle_id"]
    return not any(c.get("breached_at") for c in clocks if c["whistle_id"] == latest)
