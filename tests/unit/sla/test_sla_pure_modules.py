"""SLA's domain modules load no web framework, database or broker client."""

from __future__ import annotations

import subprocess
import sys

PURE = [
    "services.sla.clocks",
    "services.sla.periods",
    "services.sla.tallies",
    "services.sla.scoring",
    "services.sla.rankings",
    "services.sla.whistle_rates",
    "services.sla.units",
]
FRAMEWORKS = ["fastapi", "starlette", "jwt", "httpx", "sqlalchemy", "aiokafka"]


def test_slas_pure_modules_import_no_framework() -> None:
    probe = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
