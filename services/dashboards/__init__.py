"""Grafana dashboards as code (the Grafana Foundation SDK): `whistle dashboards` writes them as the
classic JSON model into deploy/grafana/dashboards/, which docker-compose provisions; a test checks the
committed files are what this code makes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from services.dashboards.departments import departments
from services.dashboards.hotline import hotline
from services.dashboards.pipeline import pipeline
from services.dashboards.streets import streets

DASHBOARDS: dict[str, Callable[[], Dashboard]] = {
    "hotline": hotline,
    "departments": departments,
    "streets": streets,
    "pipeline": pipeline,
}
FOLDER = Path(__file__).resolve().parent.parent.parent / "deploy" / "grafana" / "dashboards"


def render(name: str) -> dict[str, Any]:
    """One dashboard as Grafana's JSON model."""
    return orjson.loads(JSONEncoder(sort_keys=True).encode(DASHBOARDS[name]().build()))


def as_file(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in DASHBOARDS:
        path = folder / f"{name}.json"
        path.write_bytes(as_file(render(name)))
        written.append(path)
    return written
