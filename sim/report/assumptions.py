"""The assumptions behind a scenario, each linked to its rows in ``data/SOURCES.md``.

Each assumption is written from the scenario's resolved values and names the source ids
(S = published figure, A = modelling assumption) that justify the default. When a scenario
sets a value that differs from the documented default, the row says so: the source then
justifies the default, not the value used. The referenced rows of ``SOURCES.md`` are copied
into the report's appendix so that the file stays self-contained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from sim.report import labels as L
from sim.report.i18n import EN, Tr
from sim.report.layout import esc, html, table
from sim.report.sources import source_link, source_rows, sources_appendix

__all__ = ["Assumption", "assumptions", "assumptions_html", "source_rows", "sources_appendix"]


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
    "overload_crash": ("S60", "S70", "S71", "A80", "A81", "A83", "A84"),
}


def _dispatcher(p: Any, dp: Any, tr: Tr, sc: Any) -> Assumption:
    """How platform ``p``'s dispatcher sees its nodes (its mode, poll, load multiplier)."""
    dc = p.dispatcher
    mult = (tr("1 / the node's size; sizes vary by {cv}", cv=", ".join(
        tr.pct(c.heterogeneity_cv, 0) for c in p.clusters))
        if dc.load_multiplier == "by_size" else tr("1 for every node"))
    if dc.policy != "least_meetings":
        text = tr("Live counts of every node's participants; a lost node is seen at once.")
    elif dc.mode == "scalelite_poll":
        text = tr("Scalelite as it ran in January 2021: a new room goes to the server with the "
                  "fewest meetings × its load multiplier ({mult}) as of its last poll, every "
                  "{poll}, plus one for each room it placed since; a lost server is taken "
                  "offline after {k} failed polls, so it gets new rooms for up to {lag}.",
                  mult=mult, poll=tr.seconds(dc.poll_interval_s, 0),
                  k=tr.count(dc.failed_polls_offline),
                  lag=tr.seconds(dc.poll_interval_s * dc.failed_polls_offline, 0))
    else:
        text = tr("Live counts: a new room goes to the node with the fewest running meetings × "
                  "its load multiplier ({mult}); a lost node is seen at once.", mult=mult)
    return Assumption(
        tr("Dispatcher of {name}", name=L.platform(p.name, tr, sc)), text,
        ("S86", "S87", "A72", "A73", "A74"),
        dp is None or dp.dispatcher != dc,
    )


def assumptions(sc: Any, tr: Tr = EN) -> list[Assumption]:
    """The assumptions of scenario ``sc`` in planners' words, with source ids."""
    from sim.config import Scenario

    d = Scenario()
    tt, beh, a = sc.timetable, sc.behaviour, sc.assignment
    shares = ", ".join(
        f"{L.platform(k, tr, sc)} {tr.pct(v, 0)}" for k, v in a.platform_shares.items()
    )
    uplinks = ", ".join(f"{tr.pct(u.share, 0)} {tr.mbit(u.mbit_s)}" for u in a.uplink_mix)
    items = [
        Assumption(
            tr("Population"),
            tr("Schools and pupils of Lower Saxony 2020/21 by school type and region, "
               "simulated at scale {s}.", s=tr.plain(float(sc.population.scale))),
            ("S10", "S12", "S15", "A15", "A16"),
            sc.population.scale != 1.0,
        ),
        Assumption(
            "Szenario C",
            tr("Pupils learning from home: {s}.", s=tr.pct(sc.population.at_home_share, 0)),
            ("S50", "A33"),
            _changed(sc, d, "population.at_home_share"),
        ),
        Assumption(
            tr("Platforms"),
            tr("Schools per platform: {shares}; IServ schools with their own server "
               "{onprem}, of them outdated {outdated}.", shares=shares,
               onprem=tr.pct(a.on_prem_share.get("iserv", 0), 0),
               outdated=tr.pct(a.outdated_share, 1)),
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
            tr("School uplinks"),
            tr("Internet connections of the schools: {mix}; {lo}–{hi} of the upload taken "
               "by other traffic (drawn per school).", mix=uplinks,
               lo=tr.pct(sc.school_servers.uplink_background_share.min, 0),
               hi=tr.pct(sc.school_servers.uplink_background_share.max, 0)),
            ("A25", "A45", "A82", "S96", "S97"),
            _changed(sc, d, "assignment.uplink_mix", "school_servers.uplink_background_share"),
        ),
        Assumption(
            tr("Timetable"),
            tr("First period {start}, {n} periods of {len}; schools' bells spread ±{spread}.",
               start=_hm(tt.first_period_start), n=tt.periods, len=tr.minutes(tt.period_min),
               spread=tr.minutes(tt.school_start_spread_min)),
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
            tr("Daily check-in"),
            tr("Years {a}–{b}: {share} of classes hold it as a video conference of {len}",
               a=tt.checkin.min_year, b=tt.checkin.max_year,
               share=tr.pct(tt.checkin.video_share, 0), len=tr.minutes(tt.checkin.duration_min))
            + ("" if tt.checkin.enabled else tr(" (off here: a decree of about mid-February "
                                                "2021, not in force in January)"))
            + ".",
            ("S103", "A28", "A31"),
            _changed(sc, d, "timetable.checkin"),
        ),
        Assumption(
            tr("Live lessons"),
            tr("{share} of classes per period hold a live video lesson (calibrated to IServ's "
               "reported joins, hours and peak).", share=tr.pct(tt.live_lesson_share, 1)),
            ("A29", "A31", "S62", "S63", "S64"),
            _changed(sc, d, "timetable.live_lesson_share", "timetable.live_lesson_share_by_type"),
        ),
        Assumption(
            tr("Attendance and media"),
            tr("{att} of a class's pupils at home join; webcams on: pupils {wp}, teachers "
               "{wt}; screen share in {ss} of meetings; webcam {mbit}.",
               att=tr.pct(beh.attendance, 0), wp=tr.pct(beh.webcam_share_pupils, 0),
               wt=tr.pct(beh.webcam_share_teachers, 0), ss=tr.pct(beh.screenshare_share, 0),
               mbit=tr.mbit(sc.media.webcam_mbit_s)),
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
            tr("Reconnects"),
            tr("{n} drops per participant-hour, each followed by a rejoin.",
               n=tr.plain(float(beh.reconnect_per_h))),
            ("A30", "A31", "S98"),
            _changed(sc, d, "behaviour.reconnect_per_h"),
        ),
        Assumption(
            tr("Morning login"),
            tr("{share} of pupils at home log in to their platform around the first period.",
               share=tr.pct(sc.login.share, 0)),
            ("A34", "S56"),
            _changed(sc, d, "login"),
        ),
        Assumption(
            tr("Arrival"),
            tr("Teachers open the room about {lead} before the bell; {early} of pupils come "
               "early.", lead=tr.minutes(sc.jitter.teacher_lead_mean_s / 60),
               early=tr.pct(sc.jitter.pupil_early_share, 0)),
            ("A35",),
            _changed(sc, d, "jitter"),
        ),
        Assumption(
            tr("Retries"),
            tr("A failed attempt is retried after {first}, each wait {factor} times the last "
               "(at most {max}, ±{jitter}); pupils give up after {patience}",
               first=tr.seconds(beh.backoff_initial_s, 0), factor=tr.plain(beh.backoff_factor),
               max=tr.seconds(beh.backoff_max_s, 0), jitter=tr.pct(beh.backoff_jitter, 0),
               patience=tr.minutes(beh.patience_s / 60))
            + ("" if beh.retries else tr(" (retries switched off here)"))
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
            (L.cluster(c.name, tr, sc) + ": " if len(p.clusters) > 1 else "")
            + tr("{n} conference nodes of about {k} participants / {mbit}",
                 n=tr.count(c.nodes), k=tr.count(c.node_max_participants),
                 mbit=tr.mbit(c.node_capacity_mbit_s))
            for c in p.clusters
        )
        dp = defaults.get(p.name)
        changed = dp is None or dp.clusters != p.clusters or dp.frontend != p.frontend
        items.append(
            Assumption(
                tr("Platform {name}", name=L.platform(p.name, tr, sc)),
                tr("{label}: {clusters}; login service with {w} workers (time-out {to}); "
                   "rooms placed on the node with the {policy}.",
                   label=tr.text(p.label) or L.platform(p.name, tr, sc), clusters=cl,
                   w=tr.count(p.frontend.workers), to=tr.seconds(p.frontend.timeout_s, 0),
                   policy=tr("fewest meetings") if p.dispatcher.policy == "least_meetings"
                   else tr("fewest participants")),
                (*_PLATFORM_IDS.get(p.name, ("A43",)), "A46", "S78"),
                changed,
            )
        )
        items.append(_dispatcher(p, dp, tr, sc))
    tiers = "; ".join(
        tr("{tier}: {w} workers, a login takes {s}", tier=L.tier(n, tr), w=tr.count(t.workers),
           s=tr.seconds(t.login_service_s, 1))
        for n, t in sc.school_servers.tiers.items()
    )
    items.append(
        Assumption(
            tr("School servers"),
            tr("Servers in the schools — {tiers}.", tiers=tiers),
            ("A44", "S71"),
            _changed(sc, d, "school_servers.tiers"),
        )
    )
    for f in getattr(sc, "faults", None) or []:
        kind = str(getattr(f, "kind", "fault"))
        where = ""
        if getattr(f, "platform", None):
            where = L.platform(f.platform, tr, sc)
        elif getattr(f, "cluster", None):
            where = L.cluster(f.cluster, tr, sc)
        elif getattr(f, "tier", None):
            where = L.tier(f.tier, tr)
        elif getattr(f, "region", None):
            where = L.region(f.region, tr)
        start, end = getattr(f, "start", None), getattr(f, "end", None)
        when = (tr(" from {t}", t=_hm(start)) if start else "") + (
            tr(" to {t}", t=_hm(end)) if end else "")
        share = getattr(f, "share", None)
        stages = int(getattr(f, "repair_stages", 1) or 1)
        repair = (
            tr(", repaired in {n} stages {m} apart", n=stages,
               m=tr.minutes(getattr(f, "repair_interval_min", 0)))
            if stages > 1 else ""
        )
        own = tr.text(getattr(f, "label", "") or "")
        text = (
            L.fault_kind(kind, tr)
            + (f" ({where})" if where else "")
            + when
            + (tr(", affecting {s}", s=tr.pct(share, 0)) if isinstance(share, float) else "")
            + repair
            + "."
            + (" " + tr("In the scenario: “{label}”.", label=own) if own else "")
        )
        items.append(Assumption(tr("Fault"), text, _FAULT_IDS.get(kind, ()), True))
    pol = getattr(sc, "policies", None)
    if pol is not None and pol != getattr(d, "policies", None):
        items.append(
            Assumption(
                tr("Policies"),
                _policy_text(pol, tr, sc) + ".",
                ("S59", "S66", "S68", "S104"),
                True,
            )
        )
    if tt.start_offset_min_by_type:
        offs = ", ".join(
            f"{L.school_type(k, tr)} {tr.num(v, 0) if v < 0 else '+' + tr.num(v, 0)} min"
            for k, v in tt.start_offset_min_by_type.items()
        )
        items.append(
            Assumption(
                tr("Staggered start"),
                tr("Timetable shifted by school type: {offsets}.", offsets=offs),
                ("S59", "S104"),
                True,
            )
        )
    return items


def _stagger_text(st: Any, tr: Tr) -> str:
    """The staggered start in words: schools by number, year offsets, slots within schools."""
    parts = []
    if st.school_number_slots > 1:
        parts.append(tr("staggered start: schools spread over {n} start slots {m} apart by "
                        "school number", n=st.school_number_slots, m=tr.minutes(st.slot_min)))
    if st.offset_min_by_year:
        parts.append(tr("year groups shifted ") + ", ".join(
            tr("year {y}: {m}", y=y, m=tr.minutes(m)) for y, m in st.offset_min_by_year.items()))
    if st.staggers_within_schools():
        msg = (tr("each school starts its years in {n} slots {m} apart", n=st.within_school_slots,
                  m=tr.minutes(st.within_school_slot_min)) if st.within_school_by == "year" else
               tr("each school starts its classes in turn in {n} slots {m} apart",
                  n=st.within_school_slots, m=tr.minutes(st.within_school_slot_min)))
        parts.append(msg)
    return "; ".join(parts) or tr("staggered start: none")


def _policy_text(pol: Any, tr: Tr = EN, sc: Any = None) -> str:
    """The policies that differ from the default, in words (generic for unknown ones)."""
    d = type(pol)()
    parts = []
    for name in type(pol).model_fields:
        v, dv = getattr(pol, name), getattr(d, name)
        if v == dv:
            continue
        if name == "stagger":
            text = _stagger_text(v, tr)
        elif name == "scale_up":
            text = "; ".join(
                tr("emergency scale-up of {cluster}: up to {n} reserve nodes in steps of {step} "
                   "when over {thr} busy, {delay} after deciding",
                   cluster=L.cluster(s.cluster, tr, sc), n=tr.count(s.reserve_nodes),
                   step=tr.count(s.step_nodes), thr=tr.pct(s.threshold, 0),
                   delay=tr.minutes(s.delay_min))
                for s in v
            )
        elif name == "first_pupil_opens_room":
            text = (tr("the first participant opens the room") if v
                    else tr("the teacher opens the room"))
        else:
            dumped = v.model_dump(exclude_defaults=True) if hasattr(v, "model_dump") else v
            text = L._words(name) + ": " + (
                ", ".join(f"{L._words(k)} {tr.plain(x)}" for k, x in dumped.items())
                if isinstance(dumped, dict)
                else tr.plain(dumped)
            )
        parts.append(text)
    text = "; ".join(parts) or tr("none")
    return text[:1].upper() + text[1:]


def assumptions_html(sc: Any, tr: Tr = EN) -> tuple[Markup, list[str]]:
    """The assumptions table and the source ids it cites."""
    rows, cited = [], []
    for a in assumptions(sc, tr):
        cited += [i for i in a.ids if i not in cited]
        mark = html(" <span class=changed>{t}</span>", t=tr("set in this scenario")) if a.changed \
            else Markup("")
        rows.append((a.topic, esc(a.text) + mark, Markup(" ").join(source_link(i) for i in a.ids)))
    return table([tr("topic"), tr("assumption"), tr("sources")], rows), cited
