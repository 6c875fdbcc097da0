"""`load_city`: one city file, or a folder of files that each hold some of the city's top-level keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.city import load_city

TINY_CITY = Path(__file__).parents[2] / "data" / "tiny_city.yaml"


def tiny_document() -> dict[str, Any]:
    with TINY_CITY.open(encoding="utf-8") as fh:
        document: dict[str, Any] = yaml.safe_load(fh)
    return document


def write(folder: Path, name: str, part: dict[str, Any]) -> None:
    (folder / name).write_text(yaml.safe_dump(part, allow_unicode=True), encoding="utf-8")


def split_communities(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The document's communities by street code, taken out of its streets."""
    return {
        street["code"]: street.pop("communities")
        for district in document["districts"]
        for street in district["streets"]
    }


def test_a_single_file_loads() -> None:
    city = load_city(TINY_CITY)
    assert city.city.code == "tiny"
    assert [s.code for d in city.districts for s in d.streets] == ["s1", "s2"]


def test_a_folder_merges_its_files_into_one_city(tmp_path: Path) -> None:
    document = tiny_document()
    for key, value in document.items():
        write(tmp_path, f"{key}.yaml", {key: value})
    (tmp_path / "README.md").write_text("not a city file", encoding="utf-8")
    assert load_city(tmp_path) == load_city(TINY_CITY)


def test_communities_may_be_given_apart_by_street(tmp_path: Path) -> None:
    document = tiny_document()
    communities = split_communities(document)
    write(tmp_path, "communities.yaml", {"communities": communities})
    write(tmp_path, "city.yaml", document)
    city = load_city(tmp_path)
    assert city == load_city(TINY_CITY)
    assert [c.code for c in city.districts[0].streets[0].communities] == ["s1-01", "s1-02"]


def test_a_key_given_in_two_files_is_refused(tmp_path: Path) -> None:
    document = tiny_document()
    write(tmp_path, "city.yaml", document)
    write(tmp_path, "more_rules.yaml", {"rules": document["rules"]})
    with pytest.raises(
        ValueError, match=r"'rules' is given in both city\.yaml and more_rules\.yaml.*one file only"
    ):
        load_city(tmp_path)


def test_communities_for_a_street_twice_or_an_unknown_street_are_refused(tmp_path: Path) -> None:
    document = tiny_document()
    write(tmp_path, "city.yaml", document)
    write(tmp_path, "communities.yaml", {"communities": {"s1": []}})
    with pytest.raises(ValueError, match="communities of street 's1' are given twice"):
        load_city(tmp_path)
    split_communities(document)
    write(tmp_path, "city.yaml", document)
    write(tmp_path, "communities.yaml", {"communities": {"s9": []}})
    with pytest.raises(ValueError, match="streets the city does not have: s9"):
        load_city(tmp_path)


def test_a_folder_without_city_files_or_with_a_file_that_is_no_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no city files"):
        load_city(tmp_path)
    (tmp_path / "rules.yaml").write_text("- {category: heating, lead: heating}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\.yaml: a city file holds top-level keys"):
        load_city(tmp_path)
