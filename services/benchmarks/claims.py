"""`whistle bench claims`: department workers claiming and signing off a deep queue over the real
HTTP API — how many orders a second, whether any order went to two workers at once, how long a
claim takes while work waits, and how soon an order whose lease ran out is offered again.

Seeding: the queued orders are written straight into dispatch's tables, in batches, with the rows
the issuing path (`services.dispatch.whistles.issue`) writes — one open whistle of kind
`department` per order and its one queued lead assignment for an agency of the department, through
the same SQLAlchemy inserts (`repository.whistles.insert_assignments`) — and the same wake-up for
waiting claims (`repository.signals.work_queued`). `whistle.issued` is not put in the outbox: SLA
and intake take no part in claiming. The orders are deleted again at the end.

Then `--workers` workers (each its own keep-alive connection and worker name) work the queue until
every seeded order is signed off, in two ways a worker app may (`--mode`): `each` — claim up to
`--max` (`POST /v1/departments/{code}/claims`, no wait) and sign off each (`POST
/v1/assignments/{id}/sign-off`); `on-claim` — claims of up to `--batch` that sign off what they hand
out (`sign_off: true`). Each mode works `--assignments` orders of its own. A claim that hands out an
order whose lease from an earlier claim still runs is a double claim (see `tallies.ClaimBook`).
Claim latency with work waiting is taken twice: under the workers' full load (where it is mostly the
wait for the server, Little's law) and for one worker claiming alone (`--max` at a time,
`LATENCY_CLAIMS` claims, once the events of the phases before are consumed). Then the re-offer
probe: `--probe` more orders are claimed by one worker with a 5 s lease and left alone while the
other workers long-poll; the figure is how long after the lease ran out another worker's claim had
each (server clock for the expiry, this machine's clock for the answer: run it on the stack's
machine).

Workers sign off whatever the department's queue offers them: on a stack with real work queued
for the department, that work is signed off too (and counted apart).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import delete, insert

from services.benchmarks.cpu import settled
from services.benchmarks.http import Connection
from services.benchmarks.stack import Target, stack, token
from services.benchmarks.tallies import ClaimBook, spread
from services.dispatch.lifecycle import QUEUED, WHISTLE_OPEN
from services.dispatch.models import Assignment, Whistle
from services.dispatch.repository import signals
from services.dispatch.repository import whistles as whistle_rows
from shared.db import create_engine, sessionmaker

SEED_BATCH = 2000
PROBE_LEASE_SECONDS = 5  # the shortest lease dispatch gives
LATENCY_CLAIMS = 200  # claims of the one-worker latency phase
MODES = ("each", "on-claim")


@dataclass(frozen=True)
class Unit:
    code: str
    district_code: str
    street_code: str


@dataclass
class Run:
    """What the workers saw."""

    book: ClaimBook = field(default_factory=ClaimBook)
    seeded: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)  # seeded orders of the phase not yet signed off
    claim_latencies: list[float] = field(default_factory=list)  # claims that found work waiting
    requests: int = 0
    other_work: int = 0  # orders of the department the benchmark did not seed

    def done(self) -> bool:
        return not self.pending


async def units_of(registry_url: str, department: str) -> list[Unit]:
    """The department's agencies and a street each serves (from the registry)."""
    viewer = token(registry_url, "viewer")
    async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {viewer}"}) as client:
        page = await client.get(
            f"{registry_url}/v1/agencies", params={"department": department, "limit": 500}
        )
        page.raise_for_status()
        items = page.json()["items"]
    return [Unit(a["code"], a["district_code"], a["serves"][0]) for a in items if a["serves"]]


async def seed(database_url: str, *, department: str, units: list[Unit], count: int) -> list[str]:
    """Queue `count` orders for the department's units; their assignment ids, oldest first."""
    engine = create_engine(database_url, pool_size=1)
    sessions = sessionmaker(engine)
    ids: list[str] = []
    base = datetime.now(UTC)
    try:
        for start in range(0, count, SEED_BATCH):
            whistles, assignments = [], []
            for n in range(start, min(count, start + SEED_BATCH)):
                unit = units[n % len(units)]
                whistle_id, complaint_id, assignment_id = (str(uuid.uuid4()) for _ in range(3))
                queued_at = base + timedelta(microseconds=n)  # a strict order, as issued one by one
                whistles.append(
                    dict(
                        id=whistle_id,
                        complaint_id=complaint_id,
                        round=1,
                        kind="department",
                        category="bench",
                        urgency="normal",
                        district_code=unit.district_code,
                        street_code=unit.street_code,
                        status=WHISTLE_OPEN,
                        reasons=["bench"],
                        visit_required=False,
                        snapshot_version=0,
                        issued_at=queued_at,
                    )
                )
                assignments.append(
                    dict(
                        id=assignment_id,
                        whistle_id=whistle_id,
                        complaint_id=complaint_id,
                        unit_code=unit.code,
                        department_code=department,
                        role="lead",
                        position=0,
                        status=QUEUED,
                        queued_at=queued_at,
                    )
                )
                ids.append(assignment_id)
            async with sessions() as session, session.begin():
                await session.execute(insert(Whistle), whistles)
                await whistle_rows.insert_assignments(session, assignments)
                await signals.work_queued(session, [department])
    finally:
        await engine.dispose()
    return ids


async def unseed(database_url: str, assignment_ids: list[str]) -> None:
    """Delete the seeded orders (their assignments, then their whistles)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        for start in range(0, len(assignment_ids), 10_000):
            chunk = assignment_ids[start : start + 10_000]
            async with engine.begin() as conn:
                gone = await conn.execute(
                    delete(Assignment).where(Assignment.id.in_(chunk)).returning(Assignment.whistle_id)
                )
                whistle_ids = [r[0] for r in gone]
                await conn.execute(delete(Whistle).where(Whistle.id.in_(whistle_ids)))
    finally:
        await engine.dispose()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _claim(
    conn: Connection,
    run: Run,
    *,
    department: str,
    worker: str,
    max: int,
    wait: float,
    lease: int,
    sign_off: bool = False,
) -> list[dict[str, Any]]:
    body = {"worker": worker, "max": max, "wait_seconds": wait, "lease_seconds": lease, "sign_off": sign_off}
    began = time.perf_counter()
    status, answer = await conn.post(f"/v1/departments/{department}/claims", body)
    took = time.perf_counter() - began
    run.requests += 1
    if status != 200:
        raise RuntimeError(f"claim refused: {status} {answer}")
    items: list[dict[str, Any]] = answer["items"]
    if items:
        end = _at(answer["lease_expires_at"])
        run.book.granted([a["id"] for a in items], worker, start=end - timedelta(seconds=lease), end=end)
        if wait == 0:
            run.claim_latencies.append(took)
        if sign_off:
            for a in items:
                _signed(run, worker, a)
    return items


def _signed(run: Run, worker: str, answer: dict[str, Any]) -> None:
    lease = answer.get("lease")
    assignment_id = answer["id"]
    run.book.note_signed_off(assignment_id, worker, lease_end=_at(lease["expires_at"]) if lease else None)
    run.pending.discard(assignment_id)
    if assignment_id not in run.seeded:
        run.other_work += 1


async def _sign_off(conn: Connection, run: Run, worker: str, assignment_id: str) -> None:
    status, answer = await conn.post(f"/v1/assignments/{assignment_id}/sign-off", {"worker": worker})
    run.requests += 1
    if status == 200:
        _signed(run, worker, answer)
    else:
        run.book.note_refused(assignment_id, status)
        run.pending.discard(assignment_id)


async def _worker(
    conn: Connection, run: Run, args: argparse.Namespace, *, name: str, wait: float, on_claim: bool = False
) -> None:
    deadline = time.monotonic() + args.timeout
    while not run.done() and time.monotonic() < deadline:
        items = await _claim(
            conn, run, department=args.department, worker=name, max=args.batch if on_claim else args.max,
            wait=wait, lease=args.lease_seconds, sign_off=on_claim,
        )  # fmt: skip
        if not items:
            await asyncio.sleep(0.01)  # the rest is held by other workers, being signed off
            continue
        if not on_claim:
            for item in items:
                await _sign_off(conn, run, name, item["id"])


@dataclass
class Phase:
    """One way of working the queue, and what it took."""

    mode: str
    ids: list[str]
    seconds: float = 0.0
    requests: int = 0
    latencies: list[float] = field(default_factory=list)


async def main_phase(
    target: Target, worker_token: str, args: argparse.Namespace, run: Run, phase: Phase
) -> None:
    conns = [Connection(target.urls["dispatch"], worker_token) for _ in range(args.workers)]
    run.pending = set(phase.ids)
    requests, latencies = run.requests, len(run.claim_latencies)
    started = time.perf_counter()
    try:
        await asyncio.gather(
            *(
                _worker(
                    c, run, args, name=f"bench-{phase.mode}-w{i}", wait=0, on_claim=phase.mode == "on-claim"
                )
                for i, c in enumerate(conns)
            )
        )
    finally:
        phase.seconds = time.perf_counter() - started
        phase.requests = run.requests - requests
        phase.latencies = run.claim_latencies[latencies:]
        for c in conns:
            await c.close()


async def latency_phase(target: Target, worker_token: str, args: argparse.Namespace, run: Run) -> list[float]:
    """One worker claiming alone while work waits, once the pipeline has settled: what a claim of
    `--max` takes when the server is not busy with 31 others."""
    await settled(target.database_url)
    conn = Connection(target.urls["dispatch"], worker_token)
    latencies = len(run.claim_latencies)
    try:
        for _ in range(LATENCY_CLAIMS):
            items = await _claim(
                conn, run, department=args.department, worker="bench-alone", max=args.max, wait=0,
                lease=args.lease_seconds,
            )  # fmt: skip
            if not items:
                break
    finally:
        await conn.close()
    return run.claim_latencies[latencies:]


async def probe_phase(
    target: Target, worker_token: str, args: argparse.Namespace, run: Run, ids: list[str]
) -> list[float]:
    """Lease `ids` to one worker for 5 s and leave them; seconds from each lease's end until another
    worker's claim had it."""
    holder = Connection(target.urls["dispatch"], worker_token)
    taken: set[str] = set()
    while not set(ids) <= taken:
        items = await _claim(
            holder, run, department=args.department, worker="bench-holder", max=50, wait=0,
            lease=PROBE_LEASE_SECONDS,
        )  # fmt: skip
        if not items:
            break
        taken |= {a["id"] for a in items}
    await holder.close()
    pollers = max(1, min(args.workers, 8))
    conns = [Connection(target.urls["dispatch"], worker_token) for _ in range(pollers)]
    probe_args = argparse.Namespace(**{**vars(args), "timeout": PROBE_LEASE_SECONDS + 30})
    run.pending = set(ids)
    await asyncio.gather(
        *(_worker(c, run, probe_args, name=f"bench-p{i}", wait=10) for i, c in enumerate(conns))
    )
    for c in conns:
        await c.close()
    delays = [run.book.reoffered_after(i, "bench-holder") for i in ids]
    return [d for d in delays if d is not None]


def figures(
    run: Run, phases: list[Phase], alone: list[float], probe: list[float], probe_count: int
) -> dict[str, Any]:
    modes: dict[str, dict[str, Any]] = {}
    for phase in phases:
        elapsed = max(1e-9, phase.seconds)
        done = sum(1 for i in phase.ids if i in run.book.signed_off)
        modes[phase.mode] = {
            "assignments": len(phase.ids),
            "signed_off": done,
            "claimed_and_signed_off_per_second": round(done / elapsed, 1),
            "requests_per_second": round(phase.requests / elapsed, 1),
            "seconds": round(elapsed, 2),
            "claim_ms_when_work_waits": spread(phase.latencies, scale=1000, digits=2),
        }
    return {
        "modes": modes,
        "assignments": sum(len(p.ids) for p in phases),
        "signed_off": sum(m["signed_off"] for m in modes.values()),
        "best_claimed_and_signed_off_per_second": max(
            (m["claimed_and_signed_off_per_second"] for m in modes.values()), default=0
        ),
        "double_claims": len(run.book.doubles),
        "refused_actions": len(run.book.refused),
        "claim_ms_one_worker_alone": spread(alone, scale=1000, digits=2),
        "probe_orders": probe_count,
        "reoffered": len(probe),
        "reoffered_after_expiry_s": spread(probe, digits=3),
        "other_work_signed_off": run.other_work,
    }


HOW = {
    "each": "claim {max} at a time, then sign off each",
    "on-claim": "claims of {batch} that sign off what they hand out",
}


def _print(report: dict[str, Any], args: argparse.Namespace) -> None:
    re, alone = report["reoffered_after_expiry_s"], report["claim_ms_one_worker_alone"]
    print(f"{args.workers} workers, department {args.department}")
    for mode, m in report["modes"].items():
        lat = m["claim_ms_when_work_waits"]
        print(
            f"{HOW[mode].format(max=args.max, batch=args.batch)}: "
            f"{m['claimed_and_signed_off_per_second']:.0f} claimed and signed off/s "
            f"({m['signed_off']} of {m['assignments']} in {m['seconds']} s; "
            f"{m['requests_per_second']:.0f} requests/s) — target ≥ 3000/s; claim latency under this load "
            f"p50 {lat['p50']} ms, p99 {lat['p99']} ms"
        )
    print(
        f"double claims: {report['double_claims']} — target 0; refused actions: {report['refused_actions']}"
    )
    print(
        f"claim latency with work waiting, one worker alone ({args.max} per claim, machine settled): "
        f"p50 {alone['p50']} ms, "
        f"p99 {alone['p99']} ms, max {alone['max']} ms — target p99 < 20 ms"
    )
    print(
        f"expired lease re-offered within {re['max']} s of expiry (p50 {re['p50']} s; "
        f"{report['reoffered']} of {report['probe_orders']} orders) — target ≤ 1 s"
    )  # fmt: skip
    if report["other_work_signed_off"]:
        print(f"also signed off {report['other_work_signed_off']} orders already in the queue")


async def _run(args: argparse.Namespace) -> int:
    urls = {"registry": args.registry_url, "dispatch": args.dispatch_url}
    whole = ("registry", "intake", "dispatch", "sla")
    async with stack(
        urls, database_url=args.database_url, bootstrap=None, services=("registry", "dispatch"), start=whole
    ) as target:
        if not args.json:
            print(target.describe(), flush=True)
        units = await units_of(target.urls["registry"], args.department)
        if not units:
            print(f"department {args.department!r} has no agency serving a street", file=sys.stderr)
            return 1
        worker_token = token(target.urls["registry"], f"dept-{args.department}", args.client_secret)
        run = Run()
        probe_ids: list[str] = []
        phases = [Phase(mode, []) for mode in (MODES if args.mode == "both" else (args.mode,))]
        ids: list[str] = []
        alone: list[float] = []
        probe: list[float] = []
        try:
            for phase in phases:
                phase.ids = await seed(
                    target.database_url, department=args.department, units=units, count=args.assignments
                )
                ids += phase.ids
                run.seeded |= set(phase.ids)
                if not args.json:
                    print(f"seeded {len(phase.ids)} queued orders for mode {phase.mode}", flush=True)
                await main_phase(target, worker_token, args, run, phase)
                if run.pending:
                    break
            if not run.pending:  # orders left behind would be claimed before these
                alone_ids = await seed(
                    target.database_url,
                    department=args.department,
                    units=units,
                    count=LATENCY_CLAIMS * args.max,
                )
                ids += alone_ids
                alone = await latency_phase(target, worker_token, args, run)  # left leased: not offered again
            if not run.pending:
                probe_ids = await seed(
                    target.database_url, department=args.department, units=units, count=args.probe
                )
                run.seeded |= set(probe_ids)
                probe = await probe_phase(target, worker_token, args, run, probe_ids)
        finally:
            await unseed(target.database_url, ids + probe_ids)
        report = figures(run, phases, alone, probe, len(probe_ids))
        if args.json:
            print(orjson.dumps(report).decode())
        else:
            _print(report, args)
        complete = run.seeded <= set(run.book.signed_off) and report["double_claims"] == 0
        return 0 if complete else 2


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="whistle bench claims", description=__doc__.split("\n")[0])
    parser.add_argument("--assignments", type=int, default=50_000, help="queued orders per mode")
    parser.add_argument(
        "--mode", choices=(*MODES, "both"), default="both", help="sign off each order, or on claiming it"
    )
    parser.add_argument("--workers", type=int, default=32, help="concurrent workers")
    parser.add_argument("--max", type=int, default=10, help="orders per claim (mode each)")
    parser.add_argument("--batch", type=int, default=50, help="orders per claim (mode on-claim)")
    parser.add_argument("--lease-seconds", type=int, default=600, help="lease of the workers' claims")
    parser.add_argument("--probe", type=int, default=20, help="orders left alone for the re-offer probe")
    parser.add_argument("--department", default="cgzf", help="the department whose queue is worked")
    parser.add_argument("--client-secret", default=None, help="the department client's secret (demo)")
    parser.add_argument("--registry-url", default="http://127.0.0.1:8001")
    parser.add_argument("--dispatch-url", default="http://127.0.0.1:8003")
    parser.add_argument("--database-url", default=None, help="dispatch's database (default: DATABASE_URL)")
    parser.add_argument("--timeout", type=float, default=600, help="longest time to work the queue")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5,000 orders")
    parser.add_argument("--json", action="store_true", help="print one JSON document, nothing else")
    args = parser.parse_args(argv)
    if args.quick and not any(a.startswith("--assignments") for a in argv):
        args.assignments = 5_000
    return asyncio.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
