"""The report folder of a run: `summary.json` (every figure and series), one PNG per plot
(matplotlib, no display needed) and `index.html` showing them with the figures."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import orjson

from services.simulator.summary import percentile

if TYPE_CHECKING:
    from services.simulator.day import Outcome

PLOTS = {
    "arrivals_backlog.png": "Arrivals and backlog over the day",
    "latency.png": "Latency percentiles per stage",
    "breaches.png": "Breaches per department",
    "ranking.png": "Agency ranking with 95 % intervals",
}


def write_report(folder: Path, document: dict[str, Any]) -> list[Path]:
    """Write the folder (created if missing); the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "summary.json"]
    written[0].write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    series, run = document["series"], document["run"]
    for name, draw in (
        ("arrivals_backlog.png", lambda ax: _arrivals(ax, series, run)),
        ("latency.png", lambda ax: _latency(ax, series)),
        ("breaches.png", lambda ax: _breaches(ax, series)),
        ("ranking.png", lambda ax: _ranking(ax, series)),
    ):
        figure, axes = plt.subplots(figsize=(9, 4.5))
        draw(axes)
        axes.set_title(PLOTS[name])
        figure.tight_layout()
        figure.savefig(folder / name, dpi=100)
        plt.close(figure)
        written.append(folder / name)
    page = folder / "index.html"
    page.write_text(_html(document), encoding="utf-8")
    written.append(page)
    return written


def _hour_labels(run: dict[str, Any], n: int) -> list[str]:
    start = int(str(run["start"]).split(":")[0])
    return [f"{(start + h) % 24:02d}" for h in range(n)]


def _arrivals(ax: Any, series: dict[str, Any], run: dict[str, Any]) -> None:
    arrivals, backlog = series["arrivals_per_hour"], series["backlog"]
    hours = list(range(len(arrivals)))
    ax.bar(hours, arrivals, color="#4c72b0", label="complaints filed in the hour")
    ax.set_xticks(hours, _hour_labels(run, len(hours)), fontsize=7)
    ax.set_xlabel("local hour")
    ax.set_ylabel("filed")
    twin = ax.twinx()
    twin.plot(hours, backlog, color="#dd8452", marker="o", label="open at the hour's end")
    twin.set_ylabel("open")
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(lines, [str(h.get_label()) for h in lines], loc="upper left", fontsize=8)


def _latency(ax: Any, series: dict[str, Any]) -> None:
    stages = list(series["latency_minutes"])
    width = 0.25
    for i, p in enumerate(("p50", "p90", "p99")):
        values = [series["latency_minutes"][s].get(p) or 0 for s in stages]
        ax.bar([x + (i - 1) * width for x in range(len(stages))], values, width, label=p)
    ax.set_xticks(range(len(stages)), stages)
    ax.set_ylabel("simulated minutes from the order queued")
    ax.set_yscale("symlog")
    ax.legend(fontsize=8)


def _breaches(ax: Any, series: dict[str, Any]) -> None:
    found = series["breaches_by_department"]
    if not found:
        ax.text(0.5, 0.5, "no breaches", ha="center", va="center", transform=ax.transAxes)
        return
    names = list(found)
    ax.barh(names, [found[n] for n in names], color="#c44e52")
    ax.invert_yaxis()
    ax.set_xlabel("clocks breached")


def _ranking(ax: Any, series: dict[str, Any]) -> None:
    rows = series["ranking"][:30]
    if not rows:
        ax.text(0.5, 0.5, "no scored units", ha="center", va="center", transform=ax.transAxes)
        return
    names = [f"{r['unit_code']} (n={r['n']})" for r in rows]
    scores = [float(r["score"]) for r in rows]
    low = [s - float((r["interval"] or [s, s])[0] or s) for s, r in zip(scores, rows, strict=True)]
    high = [float((r["interval"] or [s, s])[1] or s) - s for s, r in zip(scores, rows, strict=True)]
    ax.errorbar(scores, range(len(rows)), xerr=[low, high], fmt="o", color="#55a868", capsize=3)
    ax.set_yticks(range(len(rows)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("score (0–100)")


def _html(document: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_shown(v))}</td></tr>"
        for k, v in document["figures"].items()
    )
    run = ", ".join(f"{k} {v}" for k, v in document["run"].items())
    plots = "".join(
        f'<h2>{html.escape(title)}</h2><img src="{name}" alt="{html.escape(title)}">'
        for name, title in PLOTS.items()
    )
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>Whistle: a simulated day</title>"
        "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}th{text-align:left;"
        "padding-right:2em}img{max-width:100%}</style>"
        f"<h1>A simulated hotline day</h1><p>{html.escape(run)}</p><table>{rows}</table>{plots}"
        "<p>Every figure and series: <a href='summary.json'>summary.json</a>.</p></html>"
    )


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    return str(value)


def as_document(outcome: Outcome) -> dict[str, Any]:
    """Everything a run's report holds: the run, the figures, the series, what the simulator did."""
    config, ledger = outcome.config, outcome.world.ledger
    return {
        "run": {
            "id": outcome.run_id,
            "hours": config.hours,
            "start": config.start.strftime("%H:%M"),
            "speed": config.speed,
            "seed": config.seed,
            "volume_per_day": outcome.volume_per_day,
            "scale": config.scale,
            "started_at": outcome.readback.started_at.isoformat(),
            "read_at": outcome.readback.read_at.isoformat(),
        },
        "figures": outcome.summary.figures,
        "series": outcome.summary.series,
        "simulator": {
            "filed": len(ledger.filings),
            "refused": dict(ledger.refused),
            "claimed": ledger.claimed,
            "actions": dict(ledger.actions),
            "actions_on_earlier_orders": dict(ledger.other_actions),
            "refused_actions": ledger.conflicts,
            "follow_ups": dict(ledger.follow_ups),
            "street_whistles": len(ledger.street_whistles),
            "evaluations": ledger.evaluations,
            "api_calls": dict(outcome.world.api.counts),
            "api_seconds": {
                service: {f"p{p}": percentile(times, p) for p in (50, 99)}
                for service, times in sorted(outcome.world.api.seconds.items())
            },
        },
    }
