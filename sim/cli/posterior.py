"""``dlsim posterior``: check a posterior (a calibration's or draws written by hand) against
a scenario before deciding with it (sim.decide.posterior)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import ConfigArg, LangOpt, SetOpt, _check_lang, _load, _u, app, out


@app.command()
def posterior(
    config: ConfigArg,
    file: Annotated[Path, typer.Argument(
        help="Posterior parquet: one column per config path and 'weight'.",
        show_default=False)],
    set_: SetOpt = None,
    lang: LangOpt = None,
) -> None:
    """Check a posterior against CONFIG and summarise it.

    Any parquet with one numeric column per config path of CONFIG and a 'weight' column is
    accepted (a calibration's posterior.parquet, its last generation, or draws written by
    hand). Prints the draws, their effective number and each input's weighted 5 %, 50 % and
    95 % quantiles; exit 2 with one line per problem (docs/robust.md).
    """
    from sim.decide.posterior import read_posterior, summary
    from sim.report.i18n import Tr

    tr = Tr(_check_lang(lang))
    sc = _load(config, list(set_ or []))
    s = summary(read_posterior(file, sc))
    out.print(tr("{file}: {n} draws, effective number {eff}", file=_u(file),
                 n=tr.count(s["draws"]), eff=tr.num(s["effective"], 1)))
    inputs = s["inputs"]
    assert isinstance(inputs, dict)
    for path, (q05, q50, q95) in inputs.items():
        out.print("  " + tr("{path}: median {median} (90 % between {low} and {high})",
                            path=_u(path), median=tr.sig(q50), low=tr.sig(q05),
                            high=tr.sig(q95)))
