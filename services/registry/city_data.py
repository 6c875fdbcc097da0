"""The registry's city data files (format: see `shared.city`)."""

from pathlib import Path

from shared.city import *  # noqa: F403
from shared.city import CityData, load_city

DATA_DIR = Path(__file__).parent / "data"
DEMO_CITY = DATA_DIR / "demo_city.yaml"

__all__ = ["DATA_DIR", "DEMO_CITY", "CityData", "load_city"]
