"""What a newcomer looks for first is there and agrees with the package: the licence named in
pyproject.toml, and a citation file of the package's version."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_license_is_the_one_pyproject_names() -> None:
    assert PROJECT["license"] == "MIT"
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the dlsim authors" in text


def test_citation_file_is_cff_1_2_0_of_this_version() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"authors", "cff-version", "message", "title"} <= set(cff)  # required by the schema
    assert str(cff["version"]) == PROJECT["version"]
    assert cff["license"] == PROJECT["license"]
    assert all(a.get("name") or a.get("family-names") for a in cff["authors"])
