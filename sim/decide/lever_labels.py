"""Levers, their values and service targets in a planner's words, in the reader's language.

A config path lever reads as the report names the setting ("IServ conference nodes"); a
fault's setting names the fault ("IServ dispatcher failure (fault 1), start of the repair"
rather than "Fault 1: end"); a region move's ``none`` reads "no region moved" (the label registry's
``none`` is a server tier, "no school server"); a target reads "Pupil-meetings that got in
≥ 80 %" rather than ``join_success_rate>=0.8``.
"""

from __future__ import annotations

import re
from typing import Any

from sim.decide.levers import NO_MOVE, Lever
from sim.experiments.targets import Target
from sim.report import labels
from sim.report.i18n import EN, N_, Tr

_CODE_LEVER_WORDS = {
    "replace_outdated_servers": N_("Outdated school servers replaced (worst first, whole "
                                   "state)"),
    "upgrade_uplinks": N_("School uplinks upgraded (worst first, whole state)"),
    "move_region_to_platform": N_("Regions moved to {platform}"),
}
_FAULT = re.compile(r"^faults\[(\d+)\]\.(start|end)$")


def _fault_name(i: int, tr: Tr, scenario: Any) -> str:
    """Fault ``i`` (from 0) by its label or its kind and platform, as the scenario has it."""
    faults = getattr(scenario, "faults", None) or []
    if i >= len(faults):
        return tr("Fault {n}", n=i + 1)
    f = faults[i]
    if getattr(f, "label", ""):
        label = tr.text(f.label)  # the shipped scenarios' labels are in the catalogue
        return label[:1].upper() + label[1:]
    kind = labels.fault_kind(f.kind, tr)
    plat = getattr(f, "platform", None)
    return (f"{labels.platform(plat, tr, scenario)} {kind}" if plat else
            kind[:1].upper() + kind[1:])


def lever_words(lev: Lever, tr: Tr = EN, scenario: Any = None) -> str:
    """A lever as a planner reads it (the report's words for config paths, no path syntax)."""
    if lev.kind == "path":
        path = lev.path or lev.name
        m = _FAULT.match(path)
        if m:
            name, n = _fault_name(int(m[1]), tr, scenario), int(m[1]) + 1
            return (tr("{fault} (fault {n}), start of the repair", fault=name, n=n)
                    if m[2] == "end" else
                    tr("{fault} (fault {n}), start", fault=name, n=n))
        return labels.config_path(path, tr, scenario)
    words = tr(_CODE_LEVER_WORDS[lev.kind]) if lev.kind in _CODE_LEVER_WORDS \
        else lev.kind.replace("_", " ")
    return words.format(platform=labels.platform(lev.platform, tr, scenario)
                        if lev.platform else "")


def value_words(lev: Lever, v: object, tr: Tr = EN, scenario: Any = None) -> str:
    """A lever's value in words (clock times, durations, regions; "no region moved")."""
    if lev.kind == "path":
        return labels.setting_value(lev.path or lev.name, v, tr, scenario)
    if lev.kind == "move_region_to_platform" and v in (NO_MOVE, None, (), []):
        return tr("no region moved")
    return labels.value_words(list(v) if isinstance(v, tuple) else v, tr, scenario)


def target_words(t: Target, tr: Tr = EN) -> str:
    """A target in words: "Pupil-meetings that got in ≥ 80 %"."""
    return (f"{labels.kpi_label(t.kpi, tr)} {'≥' if t.op == '>=' else '≤'} "
            f"{labels.fmt_kpi(t.kpi, t.value, tr)}")
