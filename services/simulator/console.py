"""`whistle simulate` in a terminal: a progress bar while the day plays, the summary after it, and
the report folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from services.simulator.day import Progress as RunProgress
from services.simulator.day import SimulationConfig, simulate
from services.simulator.report import as_document, write_report


def run_in_terminal(config: SimulationConfig, report: Path | None) -> int:
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[clock]}"),
        TextColumn("filed {task.fields[filed]} · answered {task.fields[answered]} · "
                   "followed up {task.fields[followed]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )  # fmt: skip
    task = bar.add_task("playing", total=config.hours * 3600, clock="", filed=0, answered=0, followed=0)
    start = config.start.hour * 60 + config.start.minute

    def show(p: RunProgress) -> None:
        minutes = start + int(p.elapsed // 60)
        day, rest = divmod(minutes, 24 * 60)
        clock = f"day {day + 1} {rest // 60:02d}:{rest % 60:02d}"
        bar.update(
            task,
            completed=p.elapsed,
            description=p.phase,
            clock=clock,
            filed=p.filed,
            answered=p.answered,
            followed=p.followed_up,
        )

    try:
        with bar:
            outcome = asyncio.run(simulate(config, progress=show))
    except KeyboardInterrupt:
        console.print("interrupted: the original policy was put back")
        return 130
    for line in outcome.summary.lines():
        print(line)
    if report is not None:
        write_report(report, as_document(outcome))
        print(f"report: {report / 'index.html'}")
    return 0 if outcome.summary.figures["lost"] == 0 else 1
