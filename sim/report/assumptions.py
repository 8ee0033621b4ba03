"""The assumptions behind a scenario, each linked to its rows in ``data/SOURCES.md``.

Each assumption is written from the scenario's resolved values and names the source ids
(S = published figure, A = modelling assumption) that justify the default. When a scenario
sets a value that differs from the documented default, the row says so: the source then
justifies the default, not the value used. The referenced rows of ``SOURCES.md`` are copied
into the report's appendix so that the file stays self-contained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.report.layout import esc

SOURCES_MD = Path(__file__).resolve().parents[2] / "data" / "SOURCES.md"


@dataclass(frozen=True)
class Assumption:
    topic: str
    text: str
    ids: tuple[str, ...]
    changed: bool = False


def _hm(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _changed(sc: Any, default: Any, *paths: str) -> bool:
    return any(_get(sc, p) != _get(default, p) for p in paths)


# Sources of each platform's capacity defaults (SOURCES.md A40–A43).
_PLATFORM_IDS = {
    "iserv": ("A40", "A43"),
    "bildungscloud": ("A41", "A43"),
    "hannover-city": ("A42", "A43"),
}
# Sources of faults and policies (the January 2021 incidents and the guidance of the time).
_FAULT_IDS = {
    "dispatcher_failure": ("S52", "S53", "S55"),
    "node_loss": ("S57",),
    "node_degradation": ("S57",),
    "frontend_outage": ("S67",),
    "uplink_outage": ("S70", "S71"),
    "overload_crash": ("S60", "S70", "S71"),
}


def assumptions(sc: Any) -> list[Assumption]:
    """The assumptions of scenario ``sc`` in planners' words, with source ids."""
    from sim.config import Scenario

    d = Scenario()
    tt, beh, a = sc.timetable, sc.behaviour, sc.assignment
    shares = ", ".join(f"{k} {v:.0%}" for k, v in a.platform_shares.items())
    uplinks = ", ".join(f"{u.share:.0%} {u.mbit_s:g} Mbit/s" for u in a.uplink_mix)
    items = [
        Assumption(
            "Population",
            f"Schools and pupils of Lower Saxony 2020/21 by school type "
            f"and region, simulated at scale {sc.population.scale:g}.",
            ("S10", "S12", "S15", "A15", "A16"),
            sc.population.scale != 1.0,
        ),
        Assumption(
            "Szenario C",
            f"Pupils learning from home: {sc.population.at_home_share:.0%}.",
            ("S50", "A33"),
            _changed(sc, d, "population.at_home_share"),
        ),
        Assumption(
            "Platforms",
            f"Schools per platform: {shares}; on-premise IServ servers "
            f"{a.on_prem_share.get('iserv', 0):.0%}, of them outdated "
            f"{a.outdated_share:.1%}.",
            ("A20", "A21", "A22", "A23", "A24"),
            _changed(
                sc,
                d,
                "assignment.platform_shares",
                "assignment.on_prem_share",
                "assignment.outdated_share",
            ),
        ),
        Assumption(
            "School uplinks",
            f"Uplink mix: {uplinks}; "
            f"{sc.school_servers.uplink_background_share:.0%} taken by other traffic.",
            ("A25", "A45", "S96", "S97"),
            _changed(sc, d, "assignment.uplink_mix", "school_servers.uplink_background_share"),
        ),
        Assumption(
            "Timetable",
            f"First period {_hm(tt.first_period_start)}, {tt.periods} "
            f"periods of {tt.period_min:g} min; schools' bells spread ±"
            f"{tt.school_start_spread_min:g} min.",
            ("A26", "A27", "S99", "S100", "S101"),
            _changed(
                sc,
                d,
                "timetable.first_period_start",
                "timetable.periods",
                "timetable.period_min",
                "timetable.school_start_spread_min",
            ),
        ),
        Assumption(
            "Daily check-in",
            f"Years {tt.checkin.min_year}–{tt.checkin.max_year}: "
            f"{tt.checkin.video_share:.0%} of classes hold it as a video conference of "
            f"{tt.checkin.duration_min:g} min"
            + ("" if tt.checkin.enabled else " (disabled here)")
            + ".",
            ("S103", "A28", "A31"),
            _changed(sc, d, "timetable.checkin"),
        ),
        Assumption(
            "Live lessons",
            f"{tt.live_lesson_share:.1%} of classes per period hold a "
            "live video lesson (calibrated to IServ's reported joins, hours and peak).",
            ("A29", "A31", "S62", "S63", "S64"),
            _changed(sc, d, "timetable.live_lesson_share", "timetable.live_lesson_share_by_type"),
        ),
        Assumption(
            "Attendance and media",
            f"{beh.attendance:.0%} of a class's pupils at home "
            f"join; webcams on: pupils {beh.webcam_share_pupils:.0%}, teachers "
            f"{beh.webcam_share_teachers:.0%}; screen share in "
            f"{beh.screenshare_share:.0%} of meetings; webcam "
            f"{sc.media.webcam_mbit_s:g} Mbit/s.",
            ("A32", "A38", "A39", "S81", "S82"),
            _changed(
                sc,
                d,
                "behaviour.attendance",
                "behaviour.webcam_share_pupils",
                "behaviour.webcam_share_teachers",
                "media",
            ),
        ),
        Assumption(
            "Reconnects",
            f"{beh.reconnect_per_h:g} drops per participant-hour, each followed by a rejoin.",
            ("A30", "A31", "S98"),
            _changed(sc, d, "behaviour.reconnect_per_h"),
        ),
        Assumption(
            "Morning login",
            f"{sc.login.share:.0%} of pupils at home log in to their "
            "platform around the first period.",
            ("A34", "S56"),
            _changed(sc, d, "login"),
        ),
        Assumption(
            "Arrival",
            "Teachers open the room about "
            f"{sc.jitter.teacher_lead_mean_s / 60:g} min before the bell; "
            f"{sc.jitter.pupil_early_share:.0%} of pupils come early.",
            ("A35",),
            _changed(sc, d, "jitter"),
        ),
        Assumption(
            "Retries",
            f"A failed attempt is retried after {beh.backoff_initial_s:g} s "
            f"× {beh.backoff_factor:g}^k (at most {beh.backoff_max_s:g} s, ±"
            f"{beh.backoff_jitter:.0%}); pupils give up after "
            f"{beh.patience_s / 60:g} min"
            + ("" if beh.retries else " (retries switched off here)")
            + ".",
            ("A36", "A37"),
            _changed(
                sc,
                d,
                "behaviour.backoff_initial_s",
                "behaviour.backoff_factor",
                "behaviour.backoff_max_s",
                "behaviour.patience_s",
                "behaviour.retries",
            ),
        ),
    ]
    defaults = {p.name: p for p in d.platforms}
    for p in sc.platforms:
        cl = "; ".join(
            f"{c.name}: {c.nodes:,} nodes × ~{c.node_max_participants} participants"
            f" / {c.node_capacity_mbit_s:g} Mbit/s"
            for c in p.clusters
        )
        dp = defaults.get(p.name)
        changed = dp is None or dp.clusters != p.clusters or dp.frontend != p.frontend
        items.append(
            Assumption(
                f"Platform {p.name}",
                f"{p.label or p.name}: {cl}; front end "
                f"{p.frontend.workers:,} workers (time-out {p.frontend.timeout_s:g} s); "
                f"dispatcher {p.dispatcher.policy}.",
                (*_PLATFORM_IDS.get(p.name, ("A43",)), "A46", "S78"),
                changed,
            )
        )
    tiers = "; ".join(
        f"{n}: {t.workers} workers, login {t.login_service_s:g} s"
        for n, t in sc.school_servers.tiers.items()
    )
    items.append(
        Assumption(
            "School servers",
            f"On-premise servers — {tiers}.",
            ("A44", "S71"),
            _changed(sc, d, "school_servers.tiers"),
        )
    )
    for f in getattr(sc, "faults", None) or []:
        kind = str(getattr(f, "kind", "fault"))
        where = next(
            (
                str(getattr(f, k))
                for k in ("platform", "cluster", "tier", "region")
                if getattr(f, k, None)
            ),
            "",
        )
        start, end = getattr(f, "start", None), getattr(f, "end", None)
        when = (f" from {_hm(start)}" if start else "") + (f" to {_hm(end)}" if end else "")
        share = getattr(f, "share", None)
        stages = int(getattr(f, "repair_stages", 1) or 1)
        repair = (
            f", repaired in {stages} stages {getattr(f, 'repair_interval_min', 0):g} min apart"
            if stages > 1
            else ""
        )
        text = (
            (getattr(f, "label", "") or kind.replace("_", " "))
            + (f" ({where})" if where else "")
            + when
            + (f", affecting {share:.0%}" if isinstance(share, float) else "")
            + repair
            + "."
        )
        items.append(Assumption("Fault", text, _FAULT_IDS.get(kind, ()), True))
    pol = getattr(sc, "policies", None)
    if pol is not None and pol != getattr(d, "policies", None):
        items.append(
            Assumption(
                "Policies",
                _policy_text(pol) + ".",
                ("S59", "S66", "S68", "S104"),
                True,
            )
        )
    if tt.start_offset_min_by_type:
        offs = ", ".join(f"{k} {v:+g} min" for k, v in tt.start_offset_min_by_type.items())
        items.append(
            Assumption(
                "Staggered start",
                f"Timetable shifted by school type: {offs}.",
                ("S59", "S104"),
                True,
            )
        )
    return items


def _policy_text(pol: Any) -> str:
    """The policies that differ from the default, in words (generic for unknown ones)."""
    d = type(pol)()
    parts = []
    for name in type(pol).model_fields:
        v, dv = getattr(pol, name), getattr(d, name)
        if v == dv:
            continue
        if name == "stagger":
            text = (
                f"staggered start: schools spread over {v.school_number_slots} start slots "
                f"{v.slot_min:g} min apart by school number"
            )
            if v.offset_min_by_year:
                text += "; year groups shifted " + ", ".join(
                    f"{y}: {m:+g} min" for y, m in v.offset_min_by_year.items()
                )
        elif name == "scale_up":
            text = "; ".join(
                f"emergency scale-up of {s.cluster}: up to {s.reserve_nodes:,} reserve nodes "
                f"in steps of {s.step_nodes:,} when over {s.threshold:.0%} busy, "
                f"{s.delay_min:g} min "
                "after deciding"
                for s in v
            )
        elif name == "first_pupil_opens_room":
            text = "the first participant opens the room" if v else "the teacher opens the room"
        else:
            dumped = v.model_dump(exclude_defaults=True) if hasattr(v, "model_dump") else v
            text = f"{name.replace('_', ' ')}: " + (
                ", ".join(f"{k} {x}" for k, x in dumped.items())
                if isinstance(dumped, dict)
                else str(dumped)
            )
        parts.append(text)
    text = "; ".join(parts) or "none"
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------------
# SOURCES.md rows


@lru_cache(maxsize=1)
def source_rows() -> dict[str, dict[str, str]]:
    """id → {what, value, basis, confidence} from data/SOURCES.md (empty if not shipped)."""
    try:
        text = SOURCES_MD.read_text(encoding="utf-8")
    except OSError:
        return {}
    rows: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*([AS]\d+)\s*\|(.*)\|\s*$", line)
        if not m:
            continue
        cells = [c.strip() for c in m[2].split(" | ")]
        if len(cells) < 5:
            continue
        what, value, mid, last, conf = (
            cells[0],
            cells[1],
            cells[2],
            " | ".join(cells[3:-1]),
            cells[-1],
        )
        if m[1].startswith("A"):  # assumption: reasoning, S ids
            basis = mid + (f" (sources: {last})" if last and last != "—" else "")
        else:  # figure: used for, source
            basis = last
        rows[m[1]] = {"what": what, "value": value, "basis": basis, "confidence": conf}
    return rows


def _expand(ids_text: str) -> list[str]:
    """'S62–S65, S73' → ['S62', 'S63', 'S64', 'S65', 'S73']."""
    out = []
    for a, b in re.findall(r"([AS]\d+)(?:\s*[–-]\s*([AS]?\d+))?", ids_text):
        if b:
            lo, hi = int(a[1:]), int(b.lstrip("AS"))
            out += [f"{a[0]}{i}" for i in range(lo, hi + 1)]
        else:
            out.append(a)
    return out


def source_link(sid: str) -> str:
    return f'<a class=src href="#src-{esc(sid)}">{esc(sid)}</a>'


def assumptions_html(sc: Any) -> tuple[str, list[str]]:
    """The assumptions table and the source ids it cites."""
    rows, cited = [], []
    for a in assumptions(sc):
        cited += [i for i in a.ids if i not in cited]
        mark = " <span class=changed>set in this scenario</span>" if a.changed else ""
        rows.append(
            f"<tr><td>{esc(a.topic)}</td><td>{esc(a.text)}{mark}</td>"
            f"<td>{' '.join(source_link(i) for i in a.ids)}</td></tr>"
        )
    table = (
        "<table><tr><th>topic</th><th>assumption</th><th>sources</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return table, cited


_URL = re.compile(r"https?://[^\s<>&\"]+[^\s<>&\".,;)]")


def _linkify(escaped: str) -> str:
    return _URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)


def sources_appendix(ids: list[str]) -> str:
    """The cited rows of SOURCES.md (and the S rows the cited A rows rest on)."""
    rows = source_rows()
    if not rows:
        return "<p class=muted>data/SOURCES.md is not available in this installation.</p>"
    wanted = list(ids)
    i = 0
    while i < len(wanted):  # add what cited rows rest on: an A row's S ids, "same as S49"
        row = rows.get(wanted[i], {})
        basis = row.get("basis", "")
        refs = _expand(basis.split("(sources:")[-1]) if wanted[i].startswith("A") else []
        refs += re.findall(r"same as (S\d+)", basis)
        wanted += [r for r in refs if r not in wanted]
        i += 1
    known = [i for i in wanted if i in rows]
    known.sort(key=lambda i: (i[0] != "S", int(i[1:])))
    body = "".join(
        f'<tr id="src-{esc(i)}"><td><b>{esc(i)}</b></td><td>{_linkify(esc(rows[i]["what"]))}</td>'
        f"<td>{_linkify(esc(rows[i]['value']))}</td><td class=small>"
        f"{_linkify(esc(rows[i]['basis']))}</td><td>{esc(rows[i]['confidence'])}</td></tr>"
        for i in known
    )
    return (
        "<table><tr><th>id</th><th>figure / assumption</th><th>value</th>"
        "<th>source / reasoning</th><th>conf.</th></tr>" + body + "</table>"
        "<p class=muted small>Copied from <code>data/SOURCES.md</code>. Confidence: H "
        "published figure, M published but indirect, L our estimate.</p>"
    )
