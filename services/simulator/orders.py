"""The units at work: department worker pools on the real claim API, and the desks of units that
have no claim queue — a street's own units and the district backstop — which see their work on
the complaint's whistle or in the unit's queue and act on it directly.

Each order taken is worked by its own task along a `workers.plan_order` plan, timed from when
the order was queued. A step the service refuses because the order moved on (answered by the
lead, withdrawn by a new round, claimed by another worker after a lease ran out) ends the task.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.simulator.workers import Plan, approval_delay, plan_order
from services.simulator.world import Case, Stopped, World
from shared.logging import get_logger

log = get_logger(__name__)

OPEN = ("queued", "signed_off", "reported_in")
CLAIM_WAIT_SECONDS = 10
"""A claim answers at once when work comes: a long wait only saves idle polls."""
POLL_SECONDS = 1.0


class _OrderMovedOn(Exception):
    """The service refused a step: the order is no longer this worker's to work."""


@dataclass
class Holder:
    """Who acts on an order: a client, and the worker name when it was claimed."""

    client_id: str
    worker: str | None = None


@dataclass
class Orders:
    """Every order being worked, so each is worked once and claims can be given back at the end."""

    world: World
    lease_seconds: int
    working: dict[str, Holder] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def take(self, assignment: dict[str, Any], holder: Holder) -> None:
        if assignment["id"] in self.seen and holder.worker is None:
            return
        self.seen.add(assignment["id"])
        self.working[assignment["id"]] = holder
        self.world.spawn(self._work(assignment, holder))

    async def release_all(self) -> None:
        """Give back every claim still held (the run is over; other workers may take them)."""
        held = [(a, h) for a, h in self.working.items() if h.worker is not None]
        gate = asyncio.Semaphore(16)

        async def release(assignment_id: str, holder: Holder) -> None:
            async with gate:
                await self.world.api.call(
                    "dispatch",
                    holder.client_id,
                    "POST",
                    f"/v1/assignments/{assignment_id}/release",
                    json={"worker": holder.worker},
                )

        await asyncio.gather(*(release(a, h) for a, h in held), return_exceptions=True)
        self.working.clear()

    async def _work(self, assignment: dict[str, Any], holder: Holder) -> None:
        try:
            case = await self._case_of(assignment, holder.client_id)
            plan = plan_order(
                self.world.rng,
                self.world.deadlines_of(case.urgency if case else "normal"),
                role=assignment["role"],
                behaviour=self.world.behaviour,
            )
            finished = await self._follow_plan(assignment, holder, plan, case)
            if finished and case is not None and assignment.get("department_code"):
                self.world.ledger.note_order(case.street_code, assignment["unit_code"], plan.late is None)
        except (_OrderMovedOn, Stopped):
            pass
        finally:
            if self.working.get(assignment["id"]) is holder:
                del self.working[assignment["id"]]

    async def _follow_plan(
        self, assignment: dict[str, Any], holder: Holder, plan: Plan, case: Case | None
    ) -> bool:
        clock = self.world.clock
        queued = clock.offset_of(datetime.fromisoformat(assignment["queued_at"]))
        status = assignment["status"]
        if status == "queued":
            await clock.until(queued + plan.sign_off)
            if not await self._act(assignment, holder, "sign-off", {}):
                return False
        if plan.returns is not None:
            await clock.until(queued + plan.answer)
            done = await self._act(
                assignment, holder, "return", {"reason": plan.returns, "note": "非本单位职责"}
            )
            if done and case is not None and case.followed and assignment["department_code"] is None:
                self.world.spawn(follow(self.world, self, case, patience=10))
            return done
        for kind, at in (("contacted", plan.contact), ("on_site", plan.on_site)):
            await clock.until(queued + at)
            await self._act(assignment, holder, "report-in", {"kind": kind}, conflict_ends=False)
        if plan.extension_at is not None and plan.extended_to is not None:
            await clock.until(queued + plan.extension_at)
            until = clock.real_at(queued + plan.extended_to).isoformat()
            asked = await self._call(
                assignment, holder, "extension", {"until": until, "reason": "需协调多方"}
            )
            if asked is not None:
                self.world.spawn(approve(self.world, asked))
        await clock.until(queued + plan.answer)
        return await self._act(assignment, holder, "report-back", {"result": plan.result, "note": "已处理"})

    async def _act(
        self,
        assignment: dict[str, Any],
        holder: Holder,
        action: str,
        body: dict[str, Any],
        *,
        conflict_ends: bool = True,
    ) -> bool:
        answer = await self._call(assignment, holder, action, body)
        if answer is None and conflict_ends:
            raise _OrderMovedOn
        return answer is not None

    async def _call(
        self, assignment: dict[str, Any], holder: Holder, action: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        if holder.worker is not None:
            body = body | {"worker": holder.worker}
        answer = await self.world.api.call(
            "dispatch", holder.client_id, "POST", f"/v1/assignments/{assignment['id']}/{action}", json=body
        )
        if not answer.ok:
            self.world.ledger.conflicts += 1
            return None
        ours = assignment["complaint_id"] in self.world.cases
        (self.world.ledger.actions if ours else self.world.ledger.other_actions)[action] += 1
        return dict(answer.body)

    async def _case_of(self, assignment: dict[str, Any], client_id: str) -> Case | None:
        """The matter an order is for: one the simulator knows, else read from its whistle."""
        known = self.world.cases.get(assignment["complaint_id"])
        if known is not None:
            return known
        answer = await self.world.api.call(
            "dispatch", "viewer", "GET", "/v1/whistles", params={"complaint_id": assignment["complaint_id"]}
        )
        for whistle in answer.body or [] if answer.ok else []:
            if whistle["id"] == assignment["whistle_id"]:
                return Case(
                    whistle["complaint_id"],
                    whistle["category"],
                    whistle["urgency"],
                    whistle["street_code"],
                    whistle["district_code"],
                )
        return None


async def approve(world: World, extension: dict[str, Any]) -> None:
    """The street (or else the district command centre) grants the time after a while."""
    await world.clock.sleep(approval_delay(world.rng, world.behaviour))
    approver = world.client_for(f"street-{extension['street_code']}")
    if approver == "admin":
        approver = world.client_for(f"district-{extension['district_code']}")
    answer = await world.api.call(
        "dispatch", approver, "POST", f"/v1/extensions/{extension['id']}/approve", json={}
    )
    if answer.ok:
        ours = extension["complaint_id"] in world.cases
        (world.ledger.actions if ours else world.ledger.other_actions)["approve"] += 1


async def department_worker(world: World, orders: Orders, department: str, name: str, capacity: int) -> None:
    """A worker app: claims from the department's queue while it has room, works each order."""
    client = f"dept-{department}"
    claims = world.api.own_connection("dispatch")
    mine: set[str] = set()
    while not world.stopping.is_set():
        mine &= set(orders.working)
        room = capacity - len(mine)
        if room <= 0:
            await world.clock.pause(POLL_SECONDS)
            continue
        answer = await claims.call(
            "dispatch",
            client,
            "POST",
            f"/v1/departments/{department}/claims",
            json={
                "worker": name,
                "max": min(room, 20),
                "wait_seconds": CLAIM_WAIT_SECONDS,
                "lease_seconds": orders.lease_seconds,
            },
        )
        if not answer.ok:
            await world.clock.pause(POLL_SECONDS)
            continue
        for item in answer.body["items"]:
            world.ledger.claimed += 1
            mine.add(item["id"])
            orders.take(item, Holder(client, name))


def owner_client(world: World, assignment: dict[str, Any]) -> str:
    """Who acts for a unit without a claim queue: its street, its district centre, else the admin."""
    unit = assignment["unit_code"]
    for district, backstop in world.index.backstops.items():
        if backstop == unit:
            return world.client_for(f"district-{district}")
    owner = world.index.owners.get(unit)
    if owner is not None and owner.street_code:
        return world.client_for(f"street-{owner.street_code}")
    return "admin"


async def follow(world: World, orders: Orders, case: Case, *, patience: int = 90) -> None:
    """Find the complaint's current whistle and hand its unit orders (no claim queue) to their
    desks; with a small `patience`, only wait for a new such order (after a return)."""
    for _ in range(patience):  # about a second apart
        if world.stopping.is_set():
            return
        await world.clock.pause(POLL_SECONDS)
        answer = await world.api.call(
            "dispatch", "viewer", "GET", "/v1/whistles", params={"complaint_id": case.complaint_id}
        )
        current = [w for w in (answer.body or []) if w["status"] == "open" and int(w["round"]) >= case.round]
        if not current:
            continue
        fresh = False
        for whistle in current:
            for a in whistle["assignments"]:
                if a["department_code"] is None and a["status"] in OPEN and a["id"] not in orders.seen:
                    orders.take(a, Holder(owner_client(world, a)))
                    fresh = True
        if fresh or patience > 10:
            return


async def backstop_desk(world: World, orders: Orders, district: str, backstop: str) -> None:
    """The district command centre watches its backstop's queue for orders sent to it."""
    client = world.client_for(f"district-{district}")
    while not world.stopping.is_set():
        answer = await world.api.call(
            "dispatch",
            client,
            "GET",
            f"/v1/units/{backstop}/queue",
            params={"status": "queued", "limit": 200},
        )
        if answer.ok:
            for a in answer.body["items"]:
                if a["id"] not in orders.seen:
                    orders.take(a, Holder(client))
        await world.clock.pause(POLL_SECONDS * 1.5)
