"""API clients: a secret, and the department or street a bound client names."""

from __future__ import annotations

from collections.abc import Sequence

from services.registry.city_validation.index import Problem, ValidationIndex
from shared.city import Client


def check_clients(clients: Sequence[Client], index: ValidationIndex) -> list[Problem]:
    problems: list[Problem] = []
    for i, client in enumerate(clients):
        cp = f"clients[{i}]"
        if not client.secret:
            problems.append(Problem(f"{cp}.secret", f"client {client.client_id!r} has an empty secret"))
        if client.department is not None and client.department not in index.departments:
            problems.append(
                Problem(
                    f"{cp}.department",
                    f"client {client.client_id!r} names unknown department {client.department!r}",
                )
            )
        if client.street is not None and client.street not in index.street_district:
            problems.append(
                Problem(f"{cp}.street", f"client {client.client_id!r} names unknown street {client.street!r}")
            )
        if client.kind == "department" and client.department is None:
            problems.append(
                Problem(f"{cp}.department", f"department client {client.client_id!r} names no department")
            )
        if client.district is not None and client.district not in index.district_streets:
            problems.append(
                Problem(
                    f"{cp}.district",
                    f"client {client.client_id!r} names unknown district {client.district!r}",
                )
            )
        if client.kind == "district" and client.district is None:
            problems.append(
                Problem(f"{cp}.district", f"district client {client.client_id!r} names no district")
            )
        if client.kind == "street" and client.street is None:
            problems.append(Problem(f"{cp}.street", f"street client {client.client_id!r} names no street"))
    return problems
