"""The arithmetic of a run (pure): what the simulator did (`Ledger`) beside what the services say
happened (`Readback`), and the figures of the summary, all counted from the services' view.

    filed          complaints intake accepted from the simulated hotline
    lost           filed − accounted for; accounted for = intake holds it and it was merged into
                   another complaint, or dispatch holds a whistle for it and it is not waiting for
                   one (received / reopened). Must be 0.
    dispatched     filed complaints with a whistle; `whistles` counts every round's
    claimed        assignments dispatch handed to workers by claims during the run
    returned       assignments sent back (退单)
    escalated      escalation steps fired to the district or bringing in the backstop (reminders apart)
    extended       requests for more time approved
    breached       SLA clocks past their deadline, by stage (warned: given a warning)
    resolved       rounds answered (the whistle completed by its answering unit)
    followed_up    follow-up calls recorded; satisfied: those that closed the complaint;
                   reopened: those that sent it round again (a new round's whistle)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.simulator.arrivals import per_hour

STAGES = ("sign_off", "contact", "report_in", "resolve")
WAITING = frozenset({"received", "reopened"})
PERCENTILES = (50, 90, 99)


@dataclass
class Filing:
    complaint_id: str
    at: float
    """Simulated seconds from the start of the run."""
    category: str
    urgency: str
    street_code: str
    merged: bool = False


@dataclass
class Ledger:
    """What the simulated clients did, as they saw it."""

    filings: dict[str, Filing] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    claimed: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    """Actions on the run's own matters answered 2xx: sign-off, report-in, report-back, return,
    extension, approve."""
    other_actions: Counter[str] = field(default_factory=Counter)
    """Actions on orders already in the queues when the run began (their workers clear them too)."""
    conflicts: int = 0
    follow_ups: Counter[str] = field(default_factory=Counter)
    """Follow-up calls recorded, by the status they left: closed / reopened."""
    street_whistles: dict[str, str] = field(default_factory=dict)
    """Whistles the streets blew (id → its complaint id)."""
    evaluations: int = 0
    on_time: dict[tuple[str, str], list[bool]] = field(default_factory=dict)
    """(street, agency) → whether each order the street saw the agency do was on time."""

    def note_order(self, street_code: str, unit_code: str, on_time: bool) -> None:
        self.on_time.setdefault((street_code, unit_code), []).append(on_time)


@dataclass
class Readback:
    """The services' own view of the run, read from their APIs after it."""

    read_at: datetime
    """The cut-off: what the services timestamp later (a clock still running may breach after the
    run) is not counted."""
    started_at: datetime
    complaints: dict[str, dict[str, Any]]
    whistles: list[dict[str, Any]]
    clocks: list[dict[str, Any]]
    extensions: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    claimed: float
    scores: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Summary:
    figures: dict[str, Any]
    series: dict[str, Any]

    def lines(self) -> list[str]:
        """The terminal summary: `filed`, then `lost`, then the rest."""
        out = []
        for key, value in self.figures.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
                out.append(f"{key}: {inner}")
            else:
                out.append(f"{key}: {value}")
        return out


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def accounted_for(ledger: Ledger, readback: Readback) -> set[str]:
    with_whistle = {w["complaint_id"] for w in readback.whistles}
    found = set()
    for complaint_id in ledger.filings:
        held = readback.complaints.get(complaint_id)
        if held is None:
            continue
        if held.get("merged_into") or (complaint_id in with_whistle and held["status"] not in WAITING):
            found.add(complaint_id)
    return found


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def latencies(clocks: Iterable[dict[str, Any]], speed: float) -> dict[str, list[float]]:
    """Per stage, how long clocks met or breached by the unit took, in simulated minutes."""
    found: dict[str, list[float]] = {s: [] for s in STAGES}
    for c in clocks:
        stopped, started = _at(c.get("stopped_at")), _at(c.get("started_at"))
        if stopped is None or started is None or c.get("status") not in ("met", "breached"):
            continue
        found.setdefault(c["stage"], []).append((stopped - started).total_seconds() * speed / 60)
    return found


def department_label(clock: dict[str, Any]) -> str:
    return str(clock.get("department_code") or clock.get("role") or "unit")


def summarize(ledger: Ledger, readback: Readback, *, speed: float, hours: float) -> Summary:
    ours = set(ledger.filings)
    complaint_whistles = [w for w in readback.whistles if w["complaint_id"] in ours]
    street_whistles = [w for w in readback.whistles if w["id"] in ledger.street_whistles]
    assignments = [a for w in readback.whistles for a in w["assignments"]]
    cut = readback.read_at
    steps = [s for w in readback.whistles for s in w.get("escalations", []) if _by(s.get("fired_at"), cut)]
    clocks = readback.clocks
    breached = Counter(c["stage"] for c in clocks if _by(c.get("breached_at"), cut))
    warned = Counter(c["stage"] for c in clocks if _by(c.get("warned_at"), cut))
    statuses = Counter(readback.complaints[c]["status"] for c in ours if c in readback.complaints)
    merged = sum(1 for c in ours if (readback.complaints.get(c) or {}).get("merged_into"))
    found = accounted_for(ledger, readback)
    figures: dict[str, Any] = {
        "filed": len(ledger.filings),
        "lost": len(ledger.filings) - len(found),
        "merged": merged,
        "dispatched": len({w["complaint_id"] for w in complaint_whistles}),
        "whistles": len(complaint_whistles),
        "street_whistles": len(street_whistles),
        "claimed": round(readback.claimed),
        "returned": sum(1 for a in assignments if a["status"] == "returned"),
        "escalated": sum(1 for s in steps if s["action"] != "remind"),
        "reminded": sum(1 for s in steps if s["action"] == "remind"),
        "extended": sum(1 for e in readback.extensions if e["status"] == "approved"),
        "warned": {s: warned.get(s, 0) for s in STAGES},
        "breached": {s: breached.get(s, 0) for s in STAGES},
        "resolved": sum(1 for w in complaint_whistles if w["status"] == "completed"),
        "followed_up": statuses.get("closed", 0) + _reopened(complaint_whistles),
        "satisfied": statuses.get("closed", 0),
        "reopened": _reopened(complaint_whistles),
        "open_at_end": sum(n for s, n in statuses.items() if s not in ("resolved", "closed")),
        "evaluations": len(readback.evaluations),
    }
    lat = latencies(clocks, speed)
    series = {
        "arrivals_per_hour": per_hour([f.at for f in ledger.filings.values()], hours),
        "backlog": backlog(ledger, complaint_whistles, readback, speed=speed, hours=hours),
        "latency_minutes": {
            stage: {f"p{p}": _round(percentile(values, p)) for p in PERCENTILES}
            for stage, values in lat.items()
        },
        "breaches_by_department": dict(
            sorted(Counter(department_label(c) for c in clocks if _by(c.get("breached_at"), cut)).items())
        ),
        "ranking": ranking(readback.scores),
    }
    return Summary(figures, series)


def _by(moment: str | None, cut: datetime) -> bool:
    """Whether a timestamp is set and not after the cut-off."""
    found = _at(moment)
    return found is not None and found <= cut


def _reopened(whistles: Iterable[dict[str, Any]]) -> int:
    return sum(1 for w in whistles if int(w.get("round", 1)) > 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def backlog(
    ledger: Ledger, whistles: Sequence[dict[str, Any]], readback: Readback, *, speed: float, hours: float
) -> list[int]:
    """Complaints open (filed or reopened, not yet answered) at the end of each simulated hour."""

    def sim(value: str | None) -> float | None:
        moment = _at(value)
        return None if moment is None else (moment - readback.started_at).total_seconds() * speed

    rounds: list[tuple[float, float]] = []
    by_complaint: dict[str, list[dict[str, Any]]] = {}
    for w in whistles:
        by_complaint.setdefault(w["complaint_id"], []).append(w)
    for complaint_id, filing in ledger.filings.items():
        if filing.merged:
            continue
        found = sorted(by_complaint.get(complaint_id, []), key=lambda w: int(w.get("round", 1)))
        start = filing.at
        if not found:
            rounds.append((start, math.inf))
        for w in found:
            if int(w.get("round", 1)) > 1:
                start = sim(w.get("issued_at")) or start
            end = sim(w.get("completed_at"))
            rounds.append((start, math.inf if end is None else end))
    marks = [3600.0 * (h + 1) for h in range(max(1, math.ceil(hours)))]
    return [sum(1 for start, end in rounds if start <= t < end) for t in marks]


def ranking(scores: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The units with a score, best first: score, its interval, rank, band and cases."""
    rows = [
        {
            "unit_code": s["unit_code"],
            "score": s.get("score"),
            "interval": s.get("score_interval"),
            "rank": s.get("rank"),
            "band": s.get("band"),
            "n": s.get("n", 0),
        }
        for s in scores
        if s.get("score") is not None
    ]
    return sorted(rows, key=lambda r: (-float(r["score"]), r["unit_code"]))
