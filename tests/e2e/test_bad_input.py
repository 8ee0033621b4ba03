"""The bad-input corpus (tests/fixtures/bad/cases.yaml) through the real command line: exit 2,
one clear line per problem naming the file and field, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import load_cases, run_case

CASES = load_cases()


def test_corpus_is_large_and_covers_every_kind() -> None:
    # 79 of round one, 40 or more of round two (issue 14), 40 or more of round three (issue 30)
    assert len(CASES) >= 183
    assert {c["kind"] for c in CASES} == {"scenario", "sweep", "arguments", "week"}
    # every class of issue 14 (and round one's) has cases
    assert {c["class"] for c in CASES} == {
        "YAML and files", "unknown keys", "types and ranges", "references and meaning",
        "data files", "resources and time", "sweeps and run directories", "command line",
        # round three (issue 30): the decision layer's inputs and every number read
        "levers files", "targets", "scenario composition", "numbers read",
        # issue 26: the uncertainty layer's inputs
        "priors files", "calibration targets files",
        # issue 28: week files (days and carry-over rules)
        "week files",
        # issue 27: posteriors for decisions (`dlsim posterior`, read_posterior)
        "posterior files"}
    assert sum(c["class"] == "week files" for c in CASES) >= 8
    assert sum(c["class"] == "posterior files" for c in CASES) >= 6
    for c in CASES:
        if "file" in c:
            assert (Path(__file__).parents[1] / "fixtures" / "bad" / c["file"]).exists(), c["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_case(case: dict, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    problems = [f"dlsim {' '.join(a.argv)} → {p}\n{a.stderr}" for a in outcome.attempts
                for p in a.problems]
    assert not problems, "\n".join(problems)
