"""Where the registry's city data files are (their format: `shared.city`, data/README.md)."""

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
DEMO_CITY = DATA_DIR / "demo_city"
"""The demo city: a folder of YAML files, one per kind (`shared.city.load_city` merges them)."""
