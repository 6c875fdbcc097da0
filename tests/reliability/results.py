"""The fault suite's table: one row per scenario that ran, with its counts."""

from __future__ import annotations

from dataclasses import dataclass

from tests.reliability.harness import Tally


@dataclass(frozen=True)
class Result:
    scenario: str
    tally: Tally
    dead_letters: int
    healthy_after_s: float
    note: str = ""


RESULTS: list[Result] = []

COLUMNS = ("accepted", "stored", "queued", "whistles", "assignments", "lost", "duplicated")


def render(results: list[Result]) -> list[str]:
    head = f"{'scenario':<50}" + "".join(f"{c:>12}" for c in COLUMNS) + f"{'dlq':>6}{'healthy':>9}  note"
    lines = [head, "-" * len(head)]
    for r in results:
        counts = r.tally.row()
        lines.append(
            f"{r.scenario:<50}"
            + "".join(f"{counts[c]:>12}" for c in COLUMNS)
            + f"{r.dead_letters:>6}{r.healthy_after_s:>8.1f}s  {r.note}"
        )
    return lines
