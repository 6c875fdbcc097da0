"""The arithmetic of the benchmarks' figures (pure): percentiles, who held each claimed assignment
and when (double claims, re-offers after a lease ran out), and which due clocks fired how often.

A double claim is an assignment handed out by a claim while an earlier claim's lease on it was
still running: every claim's lease starts at the server's `now` (its `lease_expires_at` minus the
lease asked for) and runs until its expiry, moved on by each action of the holder (a sign-off
renews it). A claim after that expiry is a re-offer, not a double claim.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `values` (NaN when there are none)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(len(ordered), rank) - 1]


def spread(values: Sequence[float], *, scale: float = 1.0, digits: int = 1) -> dict[str, float | None]:
    """p50, p99 and max of `values` times `scale`, rounded (None when there are none)."""
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": round(percentile(values, 50) * scale, digits),
        "p99": round(percentile(values, 99) * scale, digits),
        "max": round(max(values) * scale, digits),
    }


@dataclass
class Hold:
    worker: str
    start: datetime
    end: datetime


@dataclass
class ClaimBook:
    """Every lease the benchmark's workers were given, per assignment."""

    holds: dict[str, list[Hold]] = field(default_factory=dict)
    doubles: set[str] = field(default_factory=set)
    signed_off: dict[str, str] = field(default_factory=dict)  # assignment id → worker
    refused: dict[str, int] = field(default_factory=dict)  # assignment id → status of a failed action

    def granted(self, assignment_ids: Iterable[str], worker: str, *, start: datetime, end: datetime) -> None:
        """A claim gave `worker` these assignments, leased from `start` (the server's now) to `end`."""
        for assignment_id in assignment_ids:
            held = self.holds.setdefault(assignment_id, [])
            if any(h.start <= start < h.end for h in held):
                self.doubles.add(assignment_id)
            held.append(Hold(worker, start, end))

    def renewed(self, assignment_id: str, worker: str, *, end: datetime | None) -> None:
        """The holder acted: its lease now runs until `end` (None: the action ended it)."""
        held = self.holds.get(assignment_id, [])
        for hold in reversed(held):
            if hold.worker == worker:
                if end is not None:
                    hold.end = max(hold.end, end)
                break

    def note_signed_off(self, assignment_id: str, worker: str, *, lease_end: datetime | None) -> None:
        self.signed_off[assignment_id] = worker
        self.renewed(assignment_id, worker, end=lease_end)

    def note_refused(self, assignment_id: str, status: int) -> None:
        self.refused[assignment_id] = status

    def claims_of(self, assignment_id: str) -> int:
        return len(self.holds.get(assignment_id, []))

    def reoffered_after(self, assignment_id: str, first_worker: str) -> float | None:
        """Seconds from the end of `first_worker`'s lease until another worker's claim got the
        assignment (None if nobody else did)."""
        held = self.holds.get(assignment_id, [])
        first = next((h for h in held if h.worker == first_worker), None)
        if first is None:
            return None
        later = [h for h in held if h.worker != first_worker and h.start >= first.start]
        if not later:
            return None
        return (min(h.start for h in later) - first.end).total_seconds()


@dataclass
class Firings:
    """The warnings or breaches read back for a set of clocks, each with its deadline."""

    due: dict[str, datetime]  # clock id → due_at, of the clocks that must fire
    fired: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    """clock id → (the instant the timer fired it, when the event reached the broker), per event"""
    strays: int = 0  # events of the run's clocks that were not due (fired early)
    redelivered: int = 0
    """copies of an event already read (the same event id: the outbox relay's at-least-once
    delivery, which every consumer's inbox drops), not a second firing"""
    _event_ids: set[str] = field(default_factory=set)

    def note(self, clock_id: str, *, at: datetime, emitted: datetime, event_id: str | None = None) -> None:
        if event_id is not None:
            if event_id in self._event_ids:
                self.redelivered += 1
                return
            self._event_ids.add(event_id)
        if clock_id in self.due:
            self.fired.setdefault(clock_id, []).append((at, emitted))
        else:
            self.strays += 1

    @property
    def emitted(self) -> int:
        return len(self.fired)

    @property
    def missed(self) -> list[str]:
        return sorted(set(self.due) - set(self.fired))

    @property
    def twice(self) -> list[str]:
        return sorted(c for c, events in self.fired.items() if len(events) > 1)

    def lags(self, *, of: str = "fired") -> list[float]:
        """Seconds after each clock's deadline it first fired (`fired`) or reached the broker
        (`emitted`)."""
        which = 0 if of == "fired" else 1
        return [
            (min(e[which] for e in events) - self.due[c]).total_seconds() for c, events in self.fired.items()
        ]

    def complete(self) -> bool:
        return not self.missed
