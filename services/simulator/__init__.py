"""`whistle simulate`: a hotline day played end to end against a running stack.

arrivals.py   when complaints come in (the diurnal curve), how many, of which categories (pure)
places.py     where: points inside the city's communities, near-duplicates beside each other
workers.py    how department workers, streets and the hotline behave: delays, returns,
              extensions, lateness, satisfaction (pure decisions on a seeded RNG)
policy.py     the compressed copy of the SLA and dispatch policies, installed and restored
api.py        the stack's HTTP APIs as the simulated clients call them
actors.py     the simulated hotline, department worker pools, streets and district centres
day.py        the run: installs the policy, plays the hours, settles, reads back, restores
readback.py   the services' own view of the run, read from their APIs
summary.py    the arithmetic: filed, lost, dispatched … (pure)
report.py     the report folder: index.html, one PNG per plot, summary.json
"""

from services.simulator.day import SimulationConfig, simulate

__all__ = ["SimulationConfig", "simulate"]
