"""`whistle bench`: every figure beside the raw limit of this machine, in one run.

Uses the stack answering at the URLs given (by default `whistle up`'s ports), else starts one on
free ports, and measures in this order (each part's own benchmark is the one its command runs):

1. raw limits (`limits`): FastAPI validated POST without a database; the same plus one committed
   insert of a complaint row and an outbox row (asyncpg); asyncpg single-row commits; aiokafka
   produce and consume of 1 KB messages;
2. the front door: intake `POST /v1/complaints`, the highest rate within p99 < 50 ms (`ramp`),
   with the whole pipeline running, then with dispatch and SLA paused (SIGSTOP; this needs the
   stack on this machine), set beside the FastAPI + commit limit;
3. the pipeline (`whistle bench pipeline`): filed → queued p50/p99 at fixed rates, the highest
   sustained rate with p99 < 1 s, and the CPU-ms each part spends per complaint;
4. claims (`whistle bench claims`): claimed and signed off per second with 32 workers, per order
   and on claiming, double claims, claim latency, re-offer after a lease runs out;
5. timers (`whistle bench timers`): breaches of the clocks due, missed, twice, and lag, with a
   million open clocks (`--quick`: 100,000);
6. routing (`whistle bench registry`): resolve + route p99 at Beijing scale, in process.

It prints one table — figure, value, the limit it stands beside, their ratio and the target — or,
with `--json`, only a JSON list of `{figure, value, limit, ratio, target}`. `--quick` is a short
version of everything (about a minute and a half on two cores, plus starting a stack).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import psutil

from services.benchmarks import limits
from services.benchmarks.cpu import settled, stack_parts
from services.benchmarks.ramp import Ramp, highest_rate
from services.benchmarks.stack import Target, stack
from services.intake.bench import Load, setup
from services.registry.bench import route_figures
from shared.embedded import remove_tree

SERVICES = ("registry", "intake", "dispatch", "sla")


@dataclass(frozen=True)
class Profile:
    """How long and how hard each part runs."""

    ramp: Ramp
    commit_seconds: float
    kafka_messages: int
    pipeline_rates: str
    pipeline_seconds: float
    claims: int
    clocks: int
    due: int
    window: float
    route_queries: int


FULL = Profile(
    ramp=Ramp(start=200, refine=2, seconds=5.0),
    commit_seconds=10.0,
    kafka_messages=100_000,
    pipeline_rates="50,100,200,300",
    pipeline_seconds=20.0,
    claims=50_000,
    clocks=1_000_000,
    due=10_000,
    window=60.0,
    route_queries=100_000,
)
QUICK = Profile(
    ramp=Ramp(start=200, refine=1, seconds=1.0),
    commit_seconds=2.0,
    kafka_messages=10_000,
    pipeline_rates="50",
    pipeline_seconds=4.0,
    claims=500,
    clocks=20_000,
    due=200,
    window=3.0,
    route_queries=20_000,
)


# --- the table (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    figure: str
    value: float | None
    limit: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        """value / limit, where both are known and the limit is not zero."""
        if self.value is None or self.limit is None or self.limit == 0:
            return None
        if math.isnan(self.value) or math.isnan(self.limit):
            return None
        return self.value / self.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "value": _rounded(self.value),
            "limit": _rounded(self.limit),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "target": self.target or None,
        }


def _rounded(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, 2 if abs(value) < 100 else 1)


def _cell(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def render(rows: list[Row]) -> str:
    """The table as text: one line per figure."""
    header = ("figure", "value", "limit", "ratio", "target")
    cells = [
        (
            r.figure,
            _cell(r.value),
            _cell(r.limit),
            "—" if r.ratio is None else f"{r.ratio:.2f}",
            r.target or "—",
        )
        for r in rows
    ]
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(5)]
    lines = [
        f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:>{widths[2]}}  "
        f"{header[3]:>{widths[3]}}  {header[4]}"
    ]
    lines.append("-" * (sum(widths) + 8))
    for c in cells:
        lines.append(
            f"{c[0]:<{widths[0]}}  {c[1]:>{widths[1]}}  {c[2]:>{widths[2]}}  {c[3]:>{widths[3]}}  {c[4]}"
        )
    return "\n".join(lines)


def rows_of(results: dict[str, Any]) -> list[Row]:
    """The table's rows from what each part measured (a part that did not run gives no rows)."""
    rows: list[Row] = []
    lim = results.get("limits", {})
    bare, commit = lim.get("fastapi_post_per_s"), lim.get("fastapi_post_commit_per_s")
    if lim:
        rows += [
            Row("raw: FastAPI validated POST, no DB (/s, p99 < 50 ms)", bare),
            Row("raw: the same + complaint and outbox row committed (/s)", commit),
            Row("raw: asyncpg single-row commits (/s)", lim.get("asyncpg_commits_per_s")),
            Row("raw: aiokafka produce 1 KB, acks=all (msg/s)", lim.get("kafka_produce_per_s")),
            Row("raw: aiokafka consume 1 KB (msg/s)", lim.get("kafka_consume_per_s")),
        ]
    front = results.get("front_door", {})
    if front:
        target = "≥ 0.5 × limit"
        rows += [
            Row(
                "front door, pipeline running (accepted/s, p99 < 50 ms)",
                front.get("running_per_s"),
                commit,
                target,
            ),
            Row(
                "front door, downstream paused (accepted/s, p99 < 50 ms)",
                front.get("paused_per_s"),
                commit,
                target,
            ),
        ]
    pipe = results.get("pipeline", {})
    for r in pipe.get("rounds", []):
        rows.append(Row(f"pipeline at {r['rate']}/s: filed → queued p50 (ms)", r["filed_to_queued_p50_ms"]))
        rows.append(
            Row(
                f"pipeline at {r['rate']}/s: filed → queued p99 (ms)",
                r["filed_to_queued_p99_ms"],
                target="< 1000 ms",
            )
        )
    if pipe:
        rows.append(
            Row(
                "pipeline: highest sustained rate, p99 < 1 s (/s)", pipe.get("highest_sustained_rate"), commit
            )
        )
        cheapest = _cheapest_round(pipe)
        if cheapest is not None:
            for part, ms in sorted(cheapest["cpu_ms_per_complaint"].items()):
                target = "≤ 12 ms" if part == "total" else ""
                rows.append(Row(f"pipeline: CPU per complaint, {part} (ms)", ms, target=target))
    claims = results.get("claims", {})
    if claims:
        modes = claims.get("modes", {})
        each, on_claim = modes.get("each", {}), modes.get("on-claim", {})
        rows += [
            Row(
                "claims: claim 10 + sign off each, 32 workers (/s)",
                each.get("claimed_and_signed_off_per_second"),
                commit,
                "≥ 3000/s",
            ),
            Row(
                "claims: claims of 50 signing off, 32 workers (/s)",
                on_claim.get("claimed_and_signed_off_per_second"),
                lim.get("asyncpg_commits_per_s"),
                "≥ 3000/s",
            ),
            Row("claims: double claims", claims.get("double_claims"), target="0"),
            Row(
                "claims: claim latency, work waiting, one worker p99 (ms)",
                (claims.get("claim_ms_one_worker_alone") or {}).get("p99"),
                target="< 20 ms",
            ),
            Row(
                "claims: expired lease re-offered after (max s)",
                (claims.get("reoffered_after_expiry_s") or {}).get("max"),
                target="≤ 1 s",
            ),
        ]
    timers = results.get("timers", {})
    if timers:
        clocks = timers.get("clocks", 0)
        rows += [
            Row(f"timers, {clocks:,} open clocks: missed", timers.get("missed"), target="0"),
            Row(f"timers, {clocks:,} open clocks: twice", timers.get("twice"), target="0"),
            Row(
                "timers: fired after deadline p99 (ms)",
                (timers.get("fired_after_deadline_ms") or {}).get("p99"),
                target="< 1000 ms",
            ),
            Row(
                "timers: on the broker after deadline p99 (ms)",
                (timers.get("emitted_after_deadline_ms") or {}).get("p99"),
                target="< 1000 ms",
            ),
        ]
    routing = results.get("routing", {})
    if routing:
        rows.append(
            Row("routing: resolve + route p99, Beijing scale (µs)", routing.get("p99"), target="< 100 µs")
        )
    return rows


def _cheapest_round(pipeline: dict[str, Any]) -> dict[str, Any] | None:
    """The round at the highest sustained rate (else the last): where CPU per complaint is read."""
    rounds = pipeline.get("rounds", [])
    best = pipeline.get("highest_sustained_rate")
    chosen = [r for r in rounds if r["rate"] == best] or rounds[-1:]
    return chosen[0] if chosen and chosen[0].get("cpu_ms_per_complaint") else None


# --- running the parts -----------------------------------------------------------------------------


def say(quiet: bool, text: str) -> None:
    """Progress goes to standard error: standard output holds the table (or the JSON)."""
    if not quiet:
        print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def paused(intake_url: str, parts: tuple[str, ...]) -> Iterator[list[int]]:
    """SIGSTOP the stack's processes of `parts` (found from its intake on this machine), SIGCONT them
    after; the pids paused."""
    port = urlsplit(intake_url).port or 80
    pids = [pid for pid, part in stack_parts(port).items() if part in parts]
    stopped: list[int] = []
    try:
        for pid in pids:
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
        yield stopped
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


async def sub_bench(name: str, argv: list[str], log: Path) -> dict[str, Any]:
    """`whistle bench NAME ARGV --json` as a child process; its JSON (its progress goes to `log`)."""
    with log.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", "bench", name, *argv, "--json",
            stdout=asyncio.subprocess.PIPE, stderr=err,
        )  # fmt: skip
        out, _ = await proc.communicate()
    try:
        answer = orjson.loads(out)
    except orjson.JSONDecodeError:
        raise RuntimeError(
            f"whistle bench {name} printed no JSON (exit {proc.returncode}; see {log})"
        ) from None
    if not isinstance(answer, dict):
        raise RuntimeError(f"whistle bench {name} printed {type(answer).__name__}, not an object")
    return answer


async def measure(args: argparse.Namespace, profile: Profile, log_dir: Path) -> dict[str, Any]:
    quiet = args.json
    urls = {s: getattr(args, f"{s}_url") for s in SERVICES}
    results: dict[str, Any] = {}
    async with stack(
        urls, database_url=args.database_url, bootstrap=args.bootstrap, services=SERVICES
    ) as target:
        say(quiet, target.describe())
        login = argparse.Namespace(
            url=target.urls["intake"], registry_url=target.urls["registry"], token=None,
            client_id="hotline", client_secret="demo-hotline-secret",
        )  # fmt: skip
        token, communities, categories = await setup(login)
        await _settle(target, quiet)  # a stack already running may still be busy with earlier work
        results["limits"] = await _limits(target, profile, communities, categories, log_dir, quiet)
        results["front_door"] = await _front_door(target, profile, token, communities, categories, quiet)
        await _settle(target, quiet)
        results.update(await _downstream(target, profile, log_dir, quiet))
    say(quiet, "routing at Beijing scale, in process")
    results["routing"] = await asyncio.to_thread(route_figures, "beijing", queries=profile.route_queries)
    return results


async def _limits(
    target: Target,
    profile: Profile,
    communities: list[str],
    categories: list[str],
    log_dir: Path,
    quiet: bool,
) -> dict[str, float | None]:
    say(quiet, "raw limits: FastAPI validated POST, no database")
    bare = await limits.http_limit(
        database_url=None, communities=communities, categories=categories, ramp=profile.ramp,
        log=log_dir / "limits.log",
    )  # fmt: skip
    say(quiet, "raw limits: FastAPI validated POST + complaint and outbox row committed")
    commit = await limits.http_limit(
        database_url=target.database_url, communities=communities, categories=categories, ramp=profile.ramp,
        log=log_dir / "limits.log",
    )  # fmt: skip
    say(quiet, "raw limits: asyncpg single-row commits")
    commits = await limits.single_row_commits(target.database_url, seconds=profile.commit_seconds)
    say(quiet, "raw limits: aiokafka produce and consume, 1 KB")
    produced, consumed = await limits.kafka_rates(target.bootstrap, count=profile.kafka_messages)
    return {
        "fastapi_post_per_s": bare.rate,
        "fastapi_post_commit_per_s": commit.rate,
        "asyncpg_commits_per_s": commits,
        "kafka_produce_per_s": produced,
        "kafka_consume_per_s": consumed,
    }


async def _front_door(
    target: Target, profile: Profile, token: str, communities: list[str], categories: list[str], quiet: bool
) -> dict[str, float | None]:
    say(quiet, "front door: intake with the pipeline running")
    running = await highest_rate(Load(target.urls["intake"], token, communities, categories), profile.ramp)
    await _settle(target, quiet)
    say(quiet, "front door: intake with dispatch and SLA paused")
    with paused(target.urls["intake"], ("dispatch", "sla")) as stopped:
        if not stopped:
            say(quiet, "  (no dispatch or SLA process of this stack found on this machine: not paused)")
        paused_found = await highest_rate(
            Load(target.urls["intake"], token, communities, categories), profile.ramp
        )
    return {
        "running_per_s": running.rate,
        "paused_per_s": paused_found.rate if stopped else None,
    }


async def _settle(target: Target, quiet: bool, *, within: float = 120) -> None:
    """Wait for the backlog the step before left (the machine mostly idle again)."""
    say(quiet, "  waiting for the pipeline to drain")
    await settled(target.database_url, within=within)


async def _downstream(target: Target, profile: Profile, log_dir: Path, quiet: bool) -> dict[str, Any]:
    stack_args = ["--registry-url", target.urls["registry"], "--database-url", target.database_url]
    results: dict[str, Any] = {}
    say(quiet, f"pipeline at {profile.pipeline_rates} complaints/s")
    results["pipeline"] = await sub_bench(
        "pipeline",
        ["--url", target.urls["intake"], "--registry-url", target.urls["registry"],
         "--bootstrap", target.bootstrap, "--rates", profile.pipeline_rates,
         "--seconds", str(profile.pipeline_seconds)],
        log_dir / "pipeline.log",
    )  # fmt: skip
    await _settle(target, quiet)
    say(quiet, f"claims: 32 workers, {profile.claims:,} orders each way")
    results["claims"] = await sub_bench(
        "claims",
        [*stack_args, "--dispatch-url", target.urls["dispatch"], "--assignments", str(profile.claims)],
        log_dir / "claims.log",
    )
    await _settle(target, quiet)
    say(quiet, f"timers: {profile.clocks:,} open clocks, {profile.due:,} due")
    results["timers"] = await sub_bench(
        "timers",
        [*stack_args, "--bootstrap", target.bootstrap, "--clocks", str(profile.clocks),
         "--due", str(profile.due), "--window", str(profile.window)],
        log_dir / "timers.log",
    )  # fmt: skip
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="whistle bench", description=__doc__.split("\n")[0])
    for service, port in zip(SERVICES, range(8001, 8005), strict=True):
        parser.add_argument(f"--{service}-url", default=f"http://127.0.0.1:{port}")
    parser.add_argument("--database-url", default=None, help="the stack's database (default: DATABASE_URL)")
    parser.add_argument("--bootstrap", default=None, help="the broker (default: KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--quick", action="store_true", help="a short version of everything")
    parser.add_argument("--json", action="store_true", help="print only a JSON list of the rows")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    log_dir = Path(tempfile.mkdtemp(prefix="whistle-bench-all-"))
    began = time.perf_counter()
    try:
        results = asyncio.run(measure(args, profile, log_dir))
    except RuntimeError as exc:
        print(f"whistle bench: {exc}", file=sys.stderr)
        return 1
    rows = rows_of(results)
    if args.json:
        print(orjson.dumps([r.as_dict() for r in rows]).decode())
    else:
        print(render(rows))
        print(
            f"\n{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}; "
            f"{time.perf_counter() - began:.0f} s{' (--quick)' if args.quick else ''}"
        )
    remove_tree(log_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
