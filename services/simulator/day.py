"""A run: set up, play the hours, settle, read back, put the policy back.

1. read the city (the registry's snapshot), the clients and the policies in force
2. install the compressed policy (`policy.PolicySwap`) — from here on step 8 always runs
3. play: the hotline files the day's calls as they come, department worker pools claim and
   work orders, the desks of the streets' own units and the backstops work theirs, streets
   blow whistles, the hotline calls residents back and reopened complaints go round again
4. at the end of the hours every actor stops; claims still held are given back
5. settle: wait until intake and dispatch have caught up with what was filed
6. the streets score the agencies they saw at work
7. read the services' view back and do the arithmetic (`summary`)
8. restore the original policy
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from services.simulator import arrivals, readback
from services.simulator.api import DEFAULT_URLS, Api
from services.simulator.hotline import Hotline
from services.simulator.orders import Orders, backstop_desk, department_worker
from services.simulator.places import Places
from services.simulator.policy import PolicySwap
from services.simulator.streets import blow_whistles, evaluate_agencies, whistle_times
from services.simulator.summary import WAITING, Readback, Summary, summarize
from services.simulator.world import SimClock, World
from shared.city import CitySnapshot
from shared.city_index import CityIndex
from shared.logging import get_logger

log = get_logger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WORKERS_PER_DEPARTMENT = 2
ORDERS_PER_WORKER = 1000
SETTLE_SECONDS = 60.0


@dataclass(frozen=True)
class SimulationConfig:
    hours: float = 24
    start: time = time(8, 0)
    speed: float = 720
    seed: int = 1
    volume: int | None = None
    """Complaints a day (default: Beijing's volume scaled by the city's share of its households)."""
    scale: str = "demo"
    urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))
    close_period: bool = False
    settle_seconds: float = SETTLE_SECONDS


@dataclass(frozen=True)
class Progress:
    elapsed: float
    """Simulated seconds played."""
    total: float
    filed: int
    answered: int
    followed_up: int
    phase: str


@dataclass
class Outcome:
    summary: Summary
    readback: Readback
    world: World
    config: SimulationConfig
    volume_per_day: int
    run_id: str


ProgressHook = Callable[[Progress], None]


async def load_city(api: Api) -> tuple[CityIndex, frozenset[str]]:
    snapshot = CitySnapshot.model_validate(await api.need("registry", "admin", "GET", "/v1/snapshot"))
    clients: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = await api.need("registry", "admin", "GET", "/v1/clients", params=params)
        clients.update(c["client_id"] for c in page["items"] if not c.get("disabled"))
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return CityIndex.build(snapshot.city, snapshot.version), frozenset(clients)


def check_scale(index: CityIndex, scale: str) -> None:
    if scale == "beijing" and len(index.streets) < 300:
        raise ValueError(
            f"the registry holds a city of {len(index.streets)} streets, not Beijing's: "
            "seed it first (`whistle seed --scale beijing`)"
        )


async def simulate(config: SimulationConfig, *, progress: ProgressHook | None = None) -> Outcome:
    """Play the hours against the stack at `config.urls` and return what happened."""
    api = Api(config.urls)
    try:
        return await _simulate(api, config, progress)
    finally:
        await api.close()


async def _simulate(api: Api, config: SimulationConfig, progress: ProgressHook | None) -> Outcome:
    index, clients = await load_city(api)
    check_scale(index, config.scale)
    places = Places(index.city)
    volume = arrivals.daily_volume(places.households, override=config.volume)
    rng = random.Random(config.seed)
    start_hour = config.start.hour + config.start.minute / 60
    times = arrivals.arrival_times(rng, volume_per_day=volume, start_hour=start_hour, hours=config.hours)
    urgencies = {c: cat.urgency for c, cat in index.categories.items()}
    calls = arrivals.calls(
        rng, times, mix=arrivals.category_mix(sorted(index.categories)), urgencies=urgencies
    )
    swap = PolicySwap(api, config.speed)
    await swap.read()
    run_id = uuid.uuid4().hex[:8]
    claimed_before = await readback.claimed_so_far(api)
    try:
        await swap.install()
        today = datetime.now(LOCAL_TZ).date()
        clock = SimClock(start_local=datetime.combine(today, config.start, LOCAL_TZ), speed=config.speed)
        world = World(api, clock, index, places, swap.deadlines(), rng, clients)
        orders = Orders(world, lease_seconds=lease_seconds(swap, config.speed))
        hotline = Hotline(world, orders, run_id=run_id)
        end = config.hours * 3600
        _start_actors(world, orders, hotline, calls, volume, start_hour, config.hours)
        while clock.elapsed() < end:
            _report(progress, world, end, "playing")
            await asyncio.sleep(0.25)
        _report(progress, world, end, "settling")
        await world.stop()
        await hotline.drain()
        await orders.release_all()
        stopped_at = datetime.now(UTC)
        log.info("simulator.stopped", filed=len(world.ledger.filings))
        await settle(api, world, config.settle_seconds)
        log.info("simulator.settled")
        await evaluate_agencies(world)
        if config.close_period:
            await close_period(api)
        seen = await readback.read_back(
            api,
            since=clock.started_at,
            complaints=world.ledger.filings,
            street_whistles=world.ledger.street_whistles.values(),
            districts=index.backstops,
            streets=index.streets,
            claimed_before=claimed_before,
            read_at=stopped_at,
        )
        log.info("simulator.read_back", whistles=len(seen.whistles), clocks=len(seen.clocks))
        _report(progress, world, end, "done")
    finally:
        await asyncio.shield(swap.restore())
    summary = summarize(world.ledger, seen, speed=config.speed, hours=config.hours)
    return Outcome(summary, seen, world, config, volume, run_id)


def _start_actors(
    world: World,
    orders: Orders,
    hotline: Hotline,
    calls: list[arrivals.Call],
    volume: int,
    start_hour: float,
    hours: float,
) -> None:
    world.spawn(hotline.take_calls(calls))
    world.spawn(hotline.call_back_when_answered())
    world.spawn(
        blow_whistles(world, whistle_times(world, volume_per_day=volume, start_hour=start_hour, hours=hours))
    )
    for department in sorted(world.index.departments):
        if f"dept-{department}" not in world.clients:
            continue
        for n in range(WORKERS_PER_DEPARTMENT):
            name = f"sim-{department}-{n + 1}"
            world.spawn(department_worker(world, orders, department, name, ORDERS_PER_WORKER))
    for district, backstop in sorted(world.index.backstops.items()):
        world.spawn(backstop_desk(world, orders, district, backstop))


def lease_seconds(swap: PolicySwap, speed: float) -> int:
    """A claim long enough for the longest wait between two steps of a late worker (5 s – 1 h)."""
    longest = max((d.resolve for d in swap.deadlines().values()), default=86_400.0) * 2.5 / speed
    return int(min(3600, max(30, math.ceil(longest) + 30)))


def _report(hook: ProgressHook | None, world: World, total: float, phase: str) -> None:
    if hook is None:
        return
    ledger = world.ledger
    hook(
        Progress(
            elapsed=min(total, world.clock.elapsed()),
            total=total,
            filed=len(ledger.filings),
            answered=ledger.actions["report-back"],
            followed_up=sum(ledger.follow_ups.values()),
            phase=phase,
        )
    )


async def settle(api: Api, world: World, seconds: float) -> None:
    """Wait (up to `seconds`) until every filed complaint has been taken up by dispatch."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        held = await readback.complaints_since(api, world.clock.started_at, world.ledger.filings)
        waiting = [
            c for c in world.ledger.filings if c not in held or (
                held[c]["status"] in WAITING and not held[c].get("merged_into")
            )
        ]  # fmt: skip
        if not waiting:
            return
        await asyncio.sleep(0.5)
    log.warning("simulator.not_settled", seconds=seconds)


async def close_period(api: Api) -> None:
    from services.sla.periods import period_of

    period = str(period_of(datetime.now(UTC)))
    await api.call("sla", "admin", "POST", f"/v1/periods/{period}/close")


def local_start(start: str) -> time:
    """`HH:MM` as a time of day."""
    hours, _, minutes = start.partition(":")
    return time(int(hours), int(minutes or 0))
