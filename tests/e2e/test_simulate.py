"""`whistle simulate` on the real stack: a short day at high speed on the tiny city loses nothing,
and every figure of its summary is what the services themselves report when asked one complaint
at a time — and what the simulated clients did."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest

from services.simulator import SimulationConfig, simulate
from shared.city import CitySnapshot, Policies

pytestmark = pytest.mark.e2e


async def policies_in_force(stack: Any) -> Policies:
    async with stack.client("registry", as_client="admin") as admin:
        snapshot = CitySnapshot.model_validate((await admin.get("/v1/snapshot")).json())
    return snapshot.city.policies_at()


def before(moment: str | None, read_at: datetime) -> bool:
    return moment is not None and datetime.fromisoformat(moment) <= read_at


async def test_a_simulated_morning_loses_nothing_and_counts_what_the_services_hold(stack) -> None:  # type: ignore[no-untyped-def]
    policies_before = await policies_in_force(stack)
    config = SimulationConfig(
        hours=1.5, start=time(9, 0), speed=240, seed=14, volume=1500, urls=stack.urls, settle_seconds=30
    )
    outcome = await simulate(config)
    f, ledger, read_at = outcome.summary.figures, outcome.world.ledger, outcome.readback.read_at

    assert f["filed"] > 20 and f["lost"] == 0, (f, stack.logs())
    assert outcome.summary.lines()[:2] == [f"filed: {f['filed']}", "lost: 0"]

    matters = [*ledger.filings, *ledger.street_whistles.values()]
    whistles: dict[str, list[dict[str, Any]]] = {}
    clocks: list[dict[str, Any]] = []
    async with (
        stack.client("intake", as_client="hotline") as intake,
        stack.client("dispatch", as_client="viewer") as dispatch,
        stack.client("sla", as_client="viewer") as sla,
    ):
        held = {c: (await intake.get(f"/v1/complaints/{c}")).json() for c in ledger.filings}
        for matter in matters:
            whistles[matter] = (await dispatch.get("/v1/whistles", params={"complaint_id": matter})).json()
            clocks.extend((await sla.get("/v1/clocks", params={"complaint_id": matter})).json())

    ours = [w for c in ledger.filings for w in whistles[c]]
    assert f["filed"] == len(held) == sum(1 for c in held.values() if c["status"] != "received")
    assert f["dispatched"] == sum(1 for c in ledger.filings if whistles[c])
    assert f["whistles"] == len(ours)
    assert (
        f["street_whistles"]
        == len(ledger.street_whistles)
        == sum(
            1
            for w in ledger.street_whistles
            if any(x["id"] == w for x in whistles[ledger.street_whistles[w]])
        )
    )
    assert f["resolved"] == sum(1 for w in ours if w["status"] == "completed")
    assigned = [a for ws in whistles.values() for w in ws for a in w["assignments"]]
    assert f["returned"] == sum(1 for a in assigned if a["status"] == "returned") == ledger.actions["return"]
    fired = [
        s for ws in whistles.values() for w in ws for s in w["escalations"] if before(s["fired_at"], read_at)
    ]
    assert f["escalated"] == sum(1 for s in fired if s["action"] != "remind")
    assert f["reminded"] == sum(1 for s in fired if s["action"] == "remind")
    for stage in ("sign_off", "contact", "report_in", "resolve"):
        assert f["breached"][stage] == sum(
            1 for c in clocks if c["stage"] == stage and before(c["breached_at"], read_at)
        ), stage
    assert sum(f["breached"].values()) > 0  # a compressed day has late workers
    assert f["claimed"] == ledger.claimed > 0
    assert f["extended"] == ledger.actions["approve"]
    assert (
        f["satisfied"]
        == ledger.follow_ups["closed"]
        == sum(1 for c in held.values() if c["status"] == "closed")
    )
    assert f["reopened"] == ledger.follow_ups["reopened"]
    assert f["evaluations"] == ledger.evaluations
    policies_after = await policies_in_force(stack)
    assert (policies_after.sla, policies_after.dispatch) == (policies_before.sla, policies_before.dispatch)
