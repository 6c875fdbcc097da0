"""`whistle registry health` as a rich table: the structure's health report, furthest out first."""

from __future__ import annotations

from typing import Any

from rich.table import Table

FLAGS = {"over": "over", "under": "under", "super_community": "SPLIT (super-community)"}
MEASURES = {
    "residents": "residents",
    "households": "households",
    "area_km2": "area km²",
    "social_workers": "social workers",
}


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def health_table(report: dict[str, Any], *, limit: int | None = None) -> Table:
    """The report of `GET /v1/structure/health` as a table (the first `limit` findings)."""
    findings = report["findings"]
    shown = findings if limit is None else findings[:limit]
    table = Table(
        title=f"Structure health · snapshot v{report['snapshot_version']} · "
        f"{report['streets']} streets, {report['communities']} communities · "
        f"{len(findings)} outside a band" + (f" (first {len(shown)})" if len(shown) < len(findings) else ""),
        title_justify="left",
    )
    for column, justify in (
        ("level", "left"),
        ("code", "left"),
        ("name", "left"),
        ("street", "left"),
        ("measure", "left"),
        ("value", "right"),
        ("flag", "left"),
        ("off by", "right"),
        ("standard", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for f in shown:
        table.add_row(
            f["level"],
            f["code"],
            f["name"],
            f["street_code"],
            MEASURES.get(f["measure"], f["measure"]),
            _number(f["value"]),
            FLAGS.get(f["flag"], f["flag"]),
            f"{f['off_by']:.0%}",
            f["standard"],
        )
    return table
