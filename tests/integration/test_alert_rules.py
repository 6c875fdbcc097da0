"""The alert and recording rules load, and their own unit tests (deploy/prometheus/rules_test.yml)
prove when each alert fires — run by the real `promtool`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shared.embedded import fetch_prometheus, find_prometheus

pytestmark = pytest.mark.integration
RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    fetch_prometheus()
    tool = find_prometheus(tool="promtool")
    assert tool is not None, "no promtool: install Debian's prometheus package (apt-get install prometheus)"
    return tool


def test_the_rules_load(promtool: str) -> None:
    checked = subprocess.run(
        [promtool, "check", "rules", "rules.yml"], cwd=RULES, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_fires_when_its_test_says(promtool: str) -> None:
    tested = subprocess.run(
        [promtool, "test", "rules", "rules_test.yml"], cwd=RULES, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
