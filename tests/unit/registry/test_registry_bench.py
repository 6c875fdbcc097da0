"""`whistle bench registry` runs and prints its figures (in process, on the small city)."""

from __future__ import annotations

import pytest

from services.registry.bench import main


def test_bench_prints_lookup_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scale", "small", "--queries", "300"]) == 0
    out = capsys.readouterr().out
    assert "snapshot load (parse + index + STRtree)" in out
    assert "resolve + route" in out and "p99" in out


def test_bench_refuses_nonsense_options() -> None:
    with pytest.raises(SystemExit):
        main(["--queries", "0"])
