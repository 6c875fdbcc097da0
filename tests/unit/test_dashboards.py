"""The committed dashboards are what the code makes, and each is a valid Grafana dashboard by the
Foundation SDK's own model."""

from __future__ import annotations

import orjson
import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from services.dashboards import DASHBOARDS, FOLDER, as_file, render


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_the_committed_json_is_what_the_code_makes(name: str) -> None:
    assert (FOLDER / f"{name}.json").read_bytes() == as_file(render(name)), "run `whistle dashboards`"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_each_dashboard_reads_back_through_grafanas_model_unchanged(name: str) -> None:
    committed = orjson.loads((FOLDER / f"{name}.json").read_bytes())
    parsed = Dashboard.from_json(committed)
    assert orjson.loads(JSONEncoder(sort_keys=True).encode(parsed)) == committed
    assert committed["uid"] and committed["title"] and committed["panels"]
    for panel in committed["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert "job=" not in target["expr"], f"{panel['title']}: select by `service`, not `job`"
