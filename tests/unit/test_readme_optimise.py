"""README's optimise paragraph says what the code does (issue 25, second new-user pass): the
confirmation's default scale, what a smaller one means, and that the quoted answer is a dated
measurement, not a promise of the current model."""

from __future__ import annotations

import inspect
import re

from tests.conftest import REPO


def test_readme_states_the_confirmation_default_the_code_has() -> None:
    from sim.cli.optimise import optimise as cli_optimise
    from sim.decide.optimise import optimise

    cli_default = inspect.signature(cli_optimise).parameters["confirm_scale"].default
    api_default = inspect.signature(optimise).parameters["confirm_scale"].default
    readme = re.sub(r"\s+", " ", (REPO / "README.md").read_text(encoding="utf-8"))
    said = re.search(r"by default \(`--confirm-scale ([0-9.]+)`\)", readme)
    assert said is not None, "README must say which scale optimise confirms at by default"
    assert float(said[1]) == cli_default == api_default == 1.0
    assert "confirmed at full scale: no" in readme  # what a smaller --confirm-scale gives
    # the quoted answer is a measurement with its date, not the current model's promise
    quoted = readme.index("€ 74,800")
    assert "before* issue 24" in readme[quoted - 400:quoted + 400]
