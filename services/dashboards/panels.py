"""The few shapes every dashboard's panels take, on the official Grafana Foundation SDK: a time series,
a stat and a table, each with its PromQL queries against the provisioned `prometheus` datasource.

Queries select by the `service` label, never by Prometheus' `job`; each is written so that a quiet city
shows zeros, not "No data" (label sets initialised at start, or `or vector(0)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DataTransformerConfig,
    GridPos,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
WIDTH = 24


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


def _targets(queries: tuple[Query, ...]) -> list[cogbuilder.Builder[variants.Dataquery]]:
    built: list[cogbuilder.Builder[variants.Dataquery]] = []
    for i, q in enumerate(queries):
        target = (
            prometheus.Dataquery().expr(q.expr).ref_id(chr(ord("A") + i)).legend_format(q.legend or "__auto")
        )
        if q.instant:
            target = target.instant().format(PromQueryFormat.TABLE)
        built.append(target)
    return built


class Layout:
    """Places panels left to right, top to bottom, on Grafana's 24-column grid."""

    def __init__(self) -> None:
        self.x = self.y = self.row_height = 0

    def place(self, w: int, h: int) -> GridPos:
        if self.x + w > WIDTH:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        pos = GridPos(h=h, w=w, x=self.x, y=self.y)
        self.x += w
        self.row_height = max(self.row_height, h)
        return pos


def series(layout: Layout, title: str, *queries: Query, unit: str = "short", w: int = 12, h: int = 8,
           description: str = "") -> timeseries.Panel:  # fmt: skip
    legend = common_b.VizLegendOptions().display_mode(common.LegendDisplayMode.TABLE).placement(
        common.LegendPlacement.BOTTOM
    ).show_legend(True).calcs(["lastNotNull", "max"])  # fmt: skip
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .grid_pos(layout.place(w, h))
        .unit(unit)
        .legend(legend)
        .targets(_targets(queries))
    )


def single(layout: Layout, title: str, query: Query, *, unit: str = "short", w: int = 6, h: int = 4,
           description: str = "") -> stat.Panel:  # fmt: skip
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .grid_pos(layout.place(w, h))
        .unit(unit)
        .targets(_targets((query,)))
    )


def listing(layout: Layout, title: str, *queries: Query, w: int = 24, h: int = 10,
            description: str = "") -> table.Panel:  # fmt: skip
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .grid_pos(layout.place(w, h))
        .targets(_targets(tuple(Query(q.expr, q.legend, instant=True) for q in queries)))
        .with_transformation(_merge())
    )


def _merge() -> DataTransformerConfig:
    """Queries of one table joined on their labels into one row per unit."""
    return DataTransformerConfig(id_val="merge", options={})


def variable(name: str, label: str, query: str, *, multi: bool = True) -> dash.QueryVariable:
    """A template variable filled from a label's values (`label_values(metric, label)`)."""
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .multi(multi)
        .include_all(True)
        .all_value(".*")
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
    )


def board(
    uid: str,
    title: str,
    description: str,
    panels: list[Any],
    variables: list[dash.QueryVariable] | None = None,
) -> dash.Dashboard:
    """A dashboard of these panels (numbered in order) and template variables."""
    built = (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["whistle"])
        .timezone("browser")
        .refresh("10s")
        .time("now-1h", "now")
        .editable()
    )
    for variable_ in variables or []:
        built = built.with_variable(variable_)
    for number, panel in enumerate(panels, 1):
        built = built.with_panel(panel.id(number))
    return built
