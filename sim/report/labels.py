"""Every label a person reads, in words: KPIs, components, metrics, ids and config paths.

The simulation names things by id (``hannover_stadt``, ``frontend:iserv``,
``platforms[0].clusters[0].nodes``); reports and the CLI show them through this registry in
the reader's language. Ids without an entry are turned into words generically (``_`` → space,
first letter capital) rather than shown raw.
"""

from __future__ import annotations

import re
from typing import Any

from sim.report.i18n import EN, Tr

# KPI → (English, German, kind); kind decides the format: share, count, seconds
KPIS: dict[str, tuple[str, str, str]] = {
    "join_attempts": ("Join attempts (pupils)", "Beitrittsversuche (Schüler)", "count"),
    "joins_succeeded": ("Successful joins", "Erfolgreiche Beitritte", "count"),
    "join_success_rate": (
        "Pupil-meetings that got in", "Gelungene Schülerteilnahmen", "share"
    ),
    "p50_time_to_join_s": ("Median time to join", "Median der Beitrittszeit", "seconds"),
    "p95_time_to_join_s": ("95th pct. time to join", "Beitrittszeit, 95. Perzentil", "seconds"),
    "p99_time_to_join_s": ("99th pct. time to join", "Beitrittszeit, 99. Perzentil", "seconds"),
    "p95_time_to_join_retried_s": (
        "95th pct. time to join, pupils who retried",
        "Beitrittszeit, 95. Perzentil, bei erneutem Versuch",
        "seconds",
    ),
    "gave_up": ("Pupil-meetings given up", "Aufgegebene Schülerteilnahmen", "count"),
    "lost_pupil_minutes": ("Lost pupil-minutes", "Verlorene Schülerminuten", "count"),
    "peak_concurrent_participants": (
        "Peak concurrent participants", "Höchstzahl gleichzeitiger Teilnehmender", "count"
    ),
    "peak_node_utilisation": (
        "Busiest single node", "Am stärksten ausgelasteter Einzelknoten", "share"
    ),
    "peak_cluster_utilisation": (
        "Cluster at peak", "Gesamtcluster zur Spitzenzeit", "share"
    ),
    "blocking_probability": (
        "Blocking probability (capacity)", "Abweisungswahrscheinlichkeit (Kapazität)", "share"
    ),
    "affected_schools_share": (
        "Schools affected (>10 % lost >15 min)",
        "Betroffene Schulen (>10 % verloren >15 min)",
        "share",
    ),
}

SCHOOL_TYPES: dict[str, tuple[str, str]] = {
    "grundschule": ("Primary school (Grundschule)", "Grundschule"),
    "gymnasium": ("Gymnasium", "Gymnasium"),
    "oberschule": ("Oberschule", "Oberschule"),
    "igs": ("Comprehensive school (IGS)", "Integrierte Gesamtschule"),
    "realschule": ("Realschule", "Realschule"),
    "foerderschule": ("Special-needs school (Förderschule)", "Förderschule"),
    "hauptschule": ("Hauptschule", "Hauptschule"),
    "waldorf": ("Waldorf school", "Freie Waldorfschule"),
    "abendschule": ("Evening school / college", "Abendgymnasium/Kolleg"),
    "bbs": ("Vocational school (BBS)", "Berufsbildende Schule (BBS)"),
}
REGIONS: dict[str, tuple[str, str]] = {
    "braunschweig": ("Braunschweig", "Braunschweig"),
    "hannover": ("Hannover (region, without the city)", "Hannover (Region ohne Stadt)"),
    "hannover_stadt": ("Hannover (city)", "Hannover (Stadt)"),
    "lueneburg": ("Lüneburg", "Lüneburg"),
    "osnabrueck": ("Osnabrück", "Osnabrück"),
}
TIERS: dict[str, tuple[str, str]] = {
    "none": ("no school server", "kein Schulserver"),
    "current": ("current school server", "aktueller Schulserver"),
    "outdated": ("outdated school server", "veralteter Schulserver"),
    "cloud": ("hosted (no school server)", "gehostet (kein Schulserver)"),
    "hosted": ("hosted by the platform", "beim Plattformbetreiber"),
}
SERVER_GROUPS: dict[str, tuple[str, str]] = {
    "current": ("current school servers", "aktuelle Schulserver"),
    "outdated": ("outdated school servers", "veraltete Schulserver"),
    "hosted": ("servers hosted by the platform", "Server beim Plattformbetreiber"),
}
PLATFORMS: dict[str, tuple[str, str]] = {
    "iserv": ("IServ", "IServ"),
    "bildungscloud": ("Bildungscloud", "Bildungscloud"),
    "hannover-city": ("schulen-hannover.de", "schulen-hannover.de"),
}
COLUMNS: dict[str, tuple[str, str]] = {
    "school": ("school", "Schule"),
    "school_type": ("school type", "Schulform"),
    "region": ("region", "Region"),
    "platform": ("platform", "Plattform"),
    "server": ("school server", "Schulserver"),
    "uplink_mbit_s": ("uplink", "Anbindung"),
    "pupils": ("pupils", "Schüler"),
}
FAULT_KINDS: dict[str, tuple[str, str]] = {
    "dispatcher_failure": ("dispatcher failure", "Ausfall der Vermittlung"),
    "node_loss": ("loss of conference nodes", "Ausfall von Konferenzknoten"),
    "node_degradation": ("slow conference nodes", "langsame Konferenzknoten"),
    "frontend_outage": ("login service outage", "Ausfall des Anmeldedienstes"),
    "uplink_outage": ("school uplink outage", "Ausfall der Schulanbindung"),
    "overload_crash": ("school servers crash under load", "Absturz überlasteter Schulserver"),
}

# config path leaves → words (the owner, a platform or cluster, is put in front)
_LEAVES: dict[str, tuple[str, str]] = {
    "nodes": ("conference nodes", "Konferenzknoten"),
    "node_max_participants": ("participants per node", "Teilnehmende je Knoten"),
    "node_capacity_mbit_s": ("bandwidth per node", "Bandbreite je Knoten"),
    "frontend.workers": ("login workers", "Anmelde-Worker"),
    "frontend.timeout_s": ("login time-out", "Zeitlimit der Anmeldung"),
    "policies.stagger.school_number_slots": (
        "staggered start slots", "Zeitfenster des gestaffelten Beginns"
    ),
    "policies.stagger.slot_min": ("minutes between start slots", "Minuten zwischen Zeitfenstern"),
    "population.scale": ("population scale", "Skalierung der Bevölkerung"),
    "population.at_home_share": ("share of pupils at home", "Anteil der Schüler zu Hause"),
    "behaviour.patience_s": ("pupils' patience", "Geduld der Schüler"),
    "behaviour.attendance": ("attendance", "Teilnahmequote"),
    "behaviour.webcam_share_pupils": ("pupils with webcam on", "Schüler mit Kamera"),
    "timetable.live_lesson_share": ("share of live lessons", "Anteil der Live-Stunden"),
    "timetable.school_start_spread_min": ("spread of school bells", "Streuung des Schulbeginns"),
    "workers": ("workers", "Worker"),
    "kind": ("kind", "Art"),
    "label": ("description", "Beschreibung"),
    "start": ("start", "Beginn"),
    "end": ("end", "Ende"),
    "creates": ("room creation fails", "Raumanlage scheitert"),
    "joins": ("joins fail", "Beitritte scheitern"),
    "share": ("share affected", "betroffener Anteil"),
    "repair_stages": ("repair stages", "Reparaturstufen"),
    "repair_interval_min": ("minutes between repair stages", "Minuten zwischen Reparaturstufen"),
    "repair_min": ("repair time", "Reparaturdauer"),
    "queue_threshold": ("queue that crashes a server", "Warteschlange, ab der ein Server abstürzt"),
    "sustain_s": ("time the queue must last", "Dauer der Warteschlange"),
    "tier": ("school servers", "Schulserver"),
    "cluster": ("cluster", "Cluster"),
    "platform": ("platform", "Plattform"),
    "reserve_nodes": ("reserve nodes", "Reserveknoten"),
    "step_nodes": ("nodes per step", "Knoten je Schritt"),
    "threshold": ("load that triggers it", "auslösende Auslastung"),
    "delay_min": ("delay", "Verzögerung"),
    "check_interval_s": ("check interval", "Prüfabstand"),
    "give_up_return_share": ("share who come back after giving up",
                             "Anteil, der nach Aufgeben wiederkommt"),
    "give_up_return_after_s": ("comeback after", "Rückkehr nach"),
    "policies.scale_up": ("emergency scale-up", "Notfall-Erweiterung"),
    "faults": ("faults", "Störungen"),
}
# list owners shown by position ("Fault 1: start")
_LIST_OWNERS: dict[str, tuple[str, str]] = {
    "faults": ("Fault {n}", "Störung {n}"),
    "scale_up": ("Emergency scale-up {n}", "Notfall-Erweiterung {n}"),
}
_TIME_OF_DAY = {"start", "end", "day.start", "day.end", "timetable.first_period_start"}


def _words(ident: str) -> str:
    text = re.sub(r"[_\-]+", " ", str(ident)).strip()
    return text[:1].upper() + text[1:]


def _pick(table: dict[str, tuple[str, str]], key: str, tr: Tr) -> str:
    if key in table:
        return tr.pick(*table[key])
    return _words(key)


def kpi_label(kpi: str, tr: Tr = EN) -> str:
    if kpi in KPIS:
        en, de, _ = KPIS[kpi]
        return tr.pick(en, de)
    return _words(kpi)


def kpi_kind(kpi: str) -> str:
    if kpi in KPIS:
        return KPIS[kpi][2]
    if kpi.endswith(("_rate", "_share", "_probability", "_utilisation")):
        return "share"
    return "seconds" if kpi.endswith("_s") else "count"


def fmt_kpi(kpi: str, value: Any, tr: Tr = EN, digits: int | None = None) -> str:
    """A KPI value in its unit (``–`` when missing)."""
    kind = kpi_kind(kpi)
    if kind == "share":
        d = 2 if digits is None else digits
        if kpi == "blocking_probability" and digits is None:
            d = 3
        return tr.pct(value, d)
    if kind == "seconds":
        return tr.seconds(value, 1 if digits is None else digits)
    return tr.num(value, 0 if digits is None else digits)


def school_type(x: Any, tr: Tr = EN) -> str:
    return _pick(SCHOOL_TYPES, str(x), tr)


def region(x: Any, tr: Tr = EN) -> str:
    return _pick(REGIONS, str(x), tr)


def tier(x: Any, tr: Tr = EN) -> str:
    return _pick(TIERS, str(x), tr)


def platform(x: Any, tr: Tr = EN, scenario: Any = None) -> str:
    key = str(x)
    if key in PLATFORMS:
        return tr.pick(*PLATFORMS[key])
    for p in getattr(scenario, "platforms", None) or []:
        if p.name == key and p.label:
            return str(p.label)
    return _words(key)


def column(c: str, tr: Tr = EN) -> str:
    return _pick(COLUMNS, c, tr)


def fault_kind(kind: str, tr: Tr = EN) -> str:
    return _pick(FAULT_KINDS, kind, tr)


def value_label(col: str, v: Any, tr: Tr = EN, scenario: Any = None) -> str:
    """A cell of the schools table in words (ids through their registry)."""
    if col == "school_type":
        return school_type(v, tr)
    if col == "region":
        return region(v, tr)
    if col == "server":
        return tier(v, tr)
    if col == "platform":
        return platform(v, tr, scenario)
    if col == "school":
        return tr("no. {n}", n=str(v))
    if col == "uplink_mbit_s":
        return tr.mbit(v)
    return tr.plain(v)


def setting_value(path: str, v: Any, tr: Tr = EN, scenario: Any = None) -> str:
    """A setting's value as a reader reads it: clock times, durations with units, ids in
    words (``faults[0].start`` 28200 → "07:50")."""
    leaf = re.sub(r"\[[^\]]*\]", "", str(path)).rsplit(".", 1)[-1]
    if isinstance(v, int | float) and not isinstance(v, bool):
        if leaf in _TIME_OF_DAY or str(path) in _TIME_OF_DAY:
            return tr.clock(float(v))
        if leaf.endswith("_s"):
            return tr.minutes(v / 60) if v >= 120 else tr.seconds(v, 0)
        if leaf.endswith("_min"):
            return tr.minutes(v)
        if leaf.endswith(("share", "threshold")) and 0 <= v <= 1:
            return tr.pct(v, 0)
    if v is None:
        return "–"
    if leaf == "label" and isinstance(v, str):
        return f"“{v}”"
    return value_words(v, tr, scenario)


def value_words(v: Any, tr: Tr = EN, scenario: Any = None) -> str:
    """A setting's value in words when it is an id (fault kinds, regions, platforms, ...)."""
    if isinstance(v, list):
        return ", ".join(value_words(x, tr, scenario) for x in v) or tr("none")
    if not isinstance(v, str):
        return tr.plain(v)
    for table in (FAULT_KINDS, REGIONS, SCHOOL_TYPES, TIERS):
        if v in table:
            return tr.pick(*table[v])
    if v in PLATFORMS:
        return platform(v, tr, scenario)
    if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", v):
        return _words(v)
    return v


def cluster(name: str, tr: Tr = EN, scenario: Any = None) -> str:
    """A conference cluster as "<platform>" (its only cluster) or "<platform>, cluster <n>"."""
    for p in getattr(scenario, "platforms", None) or []:
        for j, c in enumerate(p.clusters):
            if c.name == name:
                owner = platform(p.name, tr, scenario)
                if len(p.clusters) == 1:
                    return owner
                return tr("{platform}, cluster {n}", platform=owner, n=j + 1)
    for key, (en, de) in PLATFORMS.items():  # cluster names start with their platform's
        if name.startswith(key.split("-")[0]):
            return tr.pick(en, de)
    return _words(name)


def component(comp: str, tr: Tr = EN, scenario: Any = None) -> str:
    """``frontend:iserv`` → "IServ login service", ``school_servers:outdated`` → words."""
    kind, _, name = str(comp).partition(":")
    if kind == "frontend":
        return tr("{platform} login service", platform=platform(name, tr, scenario))
    if kind == "school_servers":
        return _pick(SERVER_GROUPS, name, tr)
    if kind == "cluster":
        return cluster(name, tr, scenario)
    if comp == "total":
        return tr("All platforms")
    return _words(comp)


_SEG = re.compile(r"([A-Za-z_]+)(?:\[([^\]]+)\])?")


def config_path(path: str, tr: Tr = EN, scenario: Any = None) -> str:
    """A config path in words: ``platforms[0].clusters[0].nodes`` → "IServ conference nodes".

    Platforms and clusters may be given by position or by name; without a scenario the
    default scenario's order is used. Unknown leaves are turned into words.
    """
    p = str(path)
    if p.startswith("param:"):
        p = p[6:]
    if scenario is None:
        from sim.config import Scenario

        scenario = Scenario()
    segs = [(m[1], m[2]) for m in _SEG.finditer(p)]
    owner = ""
    rest = p
    if segs and segs[0][0] == "platforms" and segs[0][1] is not None:
        plat = _resolve(scenario.platforms, segs[0][1])
        owner = platform(plat.name, tr, scenario) if plat is not None else _words(segs[0][1])
        rest = p.split(".", 1)[1] if "." in p else ""
        if len(segs) > 1 and segs[1][0] == "clusters" and segs[1][1] is not None and plat:
            cl = _resolve(plat.clusters, segs[1][1])
            if cl is not None:
                owner = cluster(cl.name, tr, scenario)
            rest = rest.split(".", 1)[1] if "." in rest else ""
    elif segs and (segs[0][0] in _LIST_OWNERS or (len(segs) > 1 and segs[1][0] in _LIST_OWNERS
                                                   and segs[0][0] == "policies")):
        j = 0 if segs[0][0] in _LIST_OWNERS else 1
        name, idx = segs[j]
        if idx is not None and idx.isdigit():
            owner = tr.pick(*_LIST_OWNERS[name]).format(n=int(idx) + 1) + ":"
            rest = ".".join(x for x, _ in segs[j + 1:])
        else:
            rest = p
    elif segs and segs[0][0] == "school_servers" and len(segs) > 2:
        owner = tier(segs[2][0], tr) if segs[1][0] == "tiers" else ""
        rest = segs[-1][0]
    if owner and not rest:  # the platform or cluster itself
        return owner
    leaf = _LEAVES.get(rest) or _LEAVES.get(rest.rsplit(".", 1)[-1])
    last = rest.rsplit(".", 1)[-1] or p
    words = tr.pick(*leaf) if leaf else _words(re.sub(r"_(s|min)$", "", last))
    if owner and tr.lang == "de" and not owner.endswith(":"):
        return f"{words[:1].upper() + words[1:]} ({owner})"  # "Konferenzknoten (IServ)"
    return f"{owner} {words}".strip() if owner else words[:1].upper() + words[1:]


def _resolve(items: Any, key: str) -> Any:
    key = key.strip().strip("'\"")
    if key.isdigit():
        i = int(key)
        return items[i] if i < len(items) else None
    return next((x for x in items if x.name == key), None)


# the causes of lost pupil-minutes (sim.model.causes); login_service:<platform> is composed
CAUSES: dict[str, tuple[str, str]] = {
    "moderator_late": ("teachers opening their rooms late",
                       "Lehrkräfte, die ihren Raum spät öffnen"),
    "school_server:current": ("current school servers", "aktuelle Schulserver"),
    "school_server:outdated": ("outdated school servers", "veraltete Schulserver"),
    "school_server_outage": ("school servers down", "ausgefallene Schulserver"),
    "school_server_crash": ("school servers crashing under overload",
                            "unter Überlast abstürzende Schulserver"),
    "uplink_outage": ("school uplink outages", "Ausfälle der Schulanbindung"),
    "frontend_outage": ("platform login service outage", "Ausfall des Anmeldedienstes"),
    "dispatcher": ("the dispatcher", "die Vermittlung"),
    "conference_capacity": ("conference capacity", "Konferenzkapazität"),
    "rate_limited": ("the join-rate limit", "die Beitrittsbegrenzung"),
    "node_loss": ("lost conference nodes", "ausgefallene Konferenzknoten"),
}


def cause(x: Any, tr: Tr = EN, scenario: Any = None) -> str:
    """A cause of lost minutes in words."""
    key = str(x)
    if key.startswith("login_service:"):
        p = platform(key.split(":", 1)[1], tr, scenario)
        return tr.pick(f"login service of {p}", f"Anmeldedienst von {p}")
    return _pick(CAUSES, key, tr)
