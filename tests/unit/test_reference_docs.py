"""The generated references stay generated: every scenario field has a description, and the
committed ``docs/reference/scenario.md`` and ``cli.md`` equal a fresh generation (``make docs``
regenerates both)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from sim.cli import help_doc
from sim.config import Scenario, schema_doc

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_scenario_field_has_a_description() -> None:
    assert schema_doc.undocumented(Scenario) == []


def test_a_field_without_a_description_is_found() -> None:
    class Inner(BaseModel):
        described: int = Field(default=1, description="A number.")
        bare: int = 2

    class Outer(BaseModel):
        items: list[Inner] = Field(default_factory=list, description="Items.")
        by_name: dict[str, Inner] = Field(default_factory=dict)

    assert schema_doc.undocumented(Outer) == [
        "Inner: items[].bare", "Outer: by_name", "Inner: by_name.<name>.bare"]


def test_every_setting_and_every_fault_kind_is_in_the_reference() -> None:
    page = schema_doc.render()
    for kind in ("dispatcher_failure", "node_loss", "node_degradation", "frontend_outage",
                 "uplink_outage", "overload_crash"):
        assert f"`faults[]` with `kind: {kind}`" in page
    for path in ("`platforms[].clusters[]`", "`school_servers.tiers.<name>`",
                 "`policies.scale_up[]`", "`population.external`"):
        assert f"## {path}" in page
    assert "source_path" not in page  # set by the loader, not a setting


@pytest.mark.parametrize(("name", "render"), [
    ("scenario.md", schema_doc.render),
    ("cli.md", help_doc.render),
])
def test_committed_reference_is_up_to_date(name: str, render: object) -> None:
    assert callable(render)
    committed = (DOCS / "reference" / name).read_text(encoding="utf-8")
    assert committed == render(), f"docs/reference/{name} is stale: run `make docs`"


def test_cli_reference_has_every_command_and_option() -> None:
    import typer

    from sim.cli import app

    page = help_doc.render()
    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="dlsim")
    for name in root.list_commands(ctx):
        assert f"## `dlsim {name}`" in page
        for p in root.get_command(ctx, name).params:
            for opt in p.opts if p.param_type_name == "option" else []:
                assert f"`{opt}`" in page



def test_kpi_reference_defines_every_kpi() -> None:
    from sim.model.metrics import KPI_NAMES

    page = (DOCS / "reference" / "kpis.md").read_text(encoding="utf-8")
    for kpi in KPI_NAMES:
        assert f"| `{kpi}` |" in page, kpi
