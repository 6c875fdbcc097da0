"""The domain's pure modules load no web framework, no JWT and no HTTP client: raising an error or
checking a principal does not drag the edges of a service in."""

from __future__ import annotations

import subprocess
import sys

PURE = [
    "shared.errors",
    "shared.access",
    "shared.city",
    "shared.city_index",
    "shared.routing",
    "shared.events",
    "shared.work_calendar",
    "services.intake.status",
    "services.dispatch.lifecycle",
    "services.sla.clocks",
    "services.registry.city_validation",
]
FRAMEWORKS = ["fastapi", "starlette", "jwt", "httpx", "sqlalchemy", "aiokafka"]


def test_pure_modules_import_no_framework() -> None:
    probe = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
