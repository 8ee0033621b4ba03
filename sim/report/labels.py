"""Every label a person reads, in words: KPIs, components, metrics, ids and config paths.

The simulation names things by id (``hannover_stadt``, ``frontend:iserv``,
``platforms[0].clusters[0].nodes``); reports and the CLI show them through this registry in
the reader's language. The registry holds each id's English words, a gettext msgid marked
with ``N_`` (their translations are in sim/report/locale, see :mod:`sim.report.i18n`), and
what is not words (a KPI's kind of number). Ids without an entry are turned into words
generically (``_`` → space, first letter capital) rather than shown raw.
"""

from __future__ import annotations

import re
from typing import Any

from sim.report.i18n import EN, N_, Tr

# KPI → (English msgid, kind); kind decides the format: share, count, seconds
KPIS: dict[str, tuple[str, str]] = {
    "join_attempts": (N_("Join attempts (pupils)"), "count"),
    "joins_succeeded": (N_("Successful joins"), "count"),
    "join_success_rate": (N_("Pupil-meetings that got in"), "share"),
    "p50_time_to_join_s": (N_("Median time to join"), "seconds"),
    "p95_time_to_join_s": (N_("95th pct. time to join"), "seconds"),
    "p99_time_to_join_s": (N_("99th pct. time to join"), "seconds"),
    "p95_time_to_join_retried_s": (N_("95th pct. time to join, pupils who retried"), "seconds"),
    "gave_up": (N_("Pupil-meetings given up"), "count"),
    "lost_pupil_minutes": (N_("Lost pupil-minutes"), "count"),
    "peak_concurrent_participants": (N_("Peak concurrent participants"), "count"),
    "peak_node_utilisation": (N_("Busiest single node"), "share"),
    "peak_cluster_utilisation": (N_("Cluster at peak"), "share"),
    "blocking_probability": (N_("Blocking probability (capacity)"), "share"),
    "affected_schools_share": (N_("Schools affected (>10 % lost >15 min)"), "share"),
    "degraded_pupil_minutes": (N_("Pupil-minutes on overloaded nodes (degraded)"), "count"),
    "degraded_share": (N_("Share of pupil-minutes degraded"), "share"),
}

# KPI → what it counts, in a few words (the key-figures table; attempts, successful joins and
# the share that got in count different things: joins ÷ attempts is not the share)
KPI_MEANINGS: dict[str, str] = {
    "join_attempts": N_("every try to enter a conference: first tries, retries after a failure "
                        "and rejoins after a drop"),
    "joins_succeeded": N_("tries that got in, rejoins included (not a share of the attempts)"),
    "join_success_rate": N_("share of the pupils' meetings in which the pupil got in at least "
                            "once"),
    "p50_time_to_join_s": N_("half of those who got in waited less; those who never got in are "
                             "not counted"),
    "p95_time_to_join_s": N_("95 % of those who got in waited less; those who never got in are "
                             "not counted"),
    "p99_time_to_join_s": N_("99 % of those who got in waited less"),
    "p95_time_to_join_retried_s": N_("the same, among those who needed more than one try"),
    "gave_up": N_("pupils' meetings whose tries ended without getting in"),
    "lost_pupil_minutes": N_("lesson minutes pupils missed because they could not get in"),
    "peak_concurrent_participants": N_("most people in conferences at the same minute"),
    "peak_node_utilisation": N_("the fullest one node was at any minute (one full node is not "
                                "a full cluster)"),
    "peak_cluster_utilisation": N_("the fullest a whole cluster was, of the nodes that were up"),
    "blocking_probability": N_("tries that reached a node and were refused for lack of room"),
    "affected_schools_share": N_("schools where more than 10 % of the pupils lost more than "
                                 "15 minutes"),
}

SCHOOL_TYPES: dict[str, str] = {
    "grundschule": N_("Primary school (Grundschule)"),
    "gymnasium": N_("Gymnasium"),
    "oberschule": N_("Oberschule"),
    "igs": N_("Comprehensive school (IGS)"),
    "realschule": N_("Realschule"),
    "foerderschule": N_("Special-needs school (Förderschule)"),
    "hauptschule": N_("Hauptschule"),
    "waldorf": N_("Waldorf school"),
    "abendschule": N_("Evening school / college"),
    "bbs": N_("Vocational school (BBS)"),
}
REGIONS: dict[str, str] = {
    "braunschweig": N_("Braunschweig"),
    "hannover": N_("Hannover (region, without the city)"),
    "hannover_stadt": N_("Hannover (city)"),
    "lueneburg": N_("Lüneburg"),
    "osnabrueck": N_("Osnabrück"),
}
TIERS: dict[str, str] = {
    "none": N_("no school server"),
    "current": N_("current school server"),
    "outdated": N_("outdated school server"),
    "cloud": N_("hosted (no school server)"),
    "hosted": N_("hosted by the platform"),
}
SERVER_GROUPS: dict[str, str] = {
    "current": N_("current school servers"),
    "outdated": N_("outdated school servers"),
    "hosted": N_("servers hosted by the platform"),
}
# the platforms' names: product names, the same in every language (not messages)
PLATFORMS: dict[str, str] = {
    "iserv": "IServ",
    "bildungscloud": "Bildungscloud",
    "hannover-city": "schulen-hannover.de",
}
COLUMNS: dict[str, str] = {
    "school": N_("school"),
    "school_type": N_("school type"),
    "region": N_("region"),
    "platform": N_("platform"),
    "server": N_("school server"),
    "uplink_mbit_s": N_("uplink"),
    "pupils": N_("pupils"),
}
FAULT_KINDS: dict[str, str] = {
    "dispatcher_failure": N_("dispatcher failure"),
    "node_loss": N_("loss of conference nodes"),
    "node_degradation": N_("slow conference nodes"),
    "frontend_outage": N_("login service outage"),
    "uplink_outage": N_("school uplink outage"),
    "overload_crash": N_("school servers crash under load"),
}

# config path leaves → words (with their owner, a platform or cluster, in the language's order)
_LEAVES: dict[str, str] = {
    "nodes": N_("conference nodes"),
    "node_max_participants": N_("participants per node"),
    "node_capacity_mbit_s": N_("bandwidth per node"),
    "frontend.workers": N_("login workers"),
    "frontend.timeout_s": N_("login time-out"),
    "policies.stagger.school_number_slots": N_("staggered start slots"),
    "policies.stagger.slot_min": N_("minutes between start slots"),
    "policies.stagger.within_school_slots": N_("start slots within each school"),
    "policies.stagger.within_school_slot_min": N_("minutes between start slots within a school"),
    "population.scale": N_("population scale"),
    "population.at_home_share": N_("share of pupils at home"),
    "behaviour.patience_s": N_("pupils' patience"),
    "behaviour.attendance": N_("attendance"),
    "behaviour.webcam_share_pupils": N_("pupils with webcam on"),
    "timetable.live_lesson_share": N_("share of live lessons"),
    "timetable.school_start_spread_min": N_("spread of school bells"),
    "assignment.outdated_share": N_("share of outdated school servers"),
    "assignment.on_prem_share": N_("share of schools with their own server"),
    "assignment.platform_shares": N_("platform shares"),
    "policies.camera.cameras_off_above": N_("pupils' cameras off above (people in the room)"),
    "behaviour.reconnect_per_h": N_("reconnects per hour"),
    "workers": N_("workers"),
    "kind": N_("kind"),
    "label": N_("description"),
    "start": N_("start"),
    "end": N_("end"),
    "creates": N_("room creation fails"),
    "joins": N_("joins fail"),
    "share": N_("share affected"),
    "repair_stages": N_("repair stages"),
    "repair_interval_min": N_("minutes between repair stages"),
    "repair_min": N_("repair time"),
    "load_threshold": N_("load that crashes a server (× its capacity)"),
    "response_share": N_("wait that counts as overload (× time-out)"),
    "request_mb": N_("memory per request"),
    "memory_mb": N_("server memory"),
    "sustain_s": N_("time the overload must last"),
    "tier": N_("school servers"),
    "cluster": N_("cluster"),
    "platform": N_("platform"),
    "reserve_nodes": N_("reserve nodes"),
    "step_nodes": N_("nodes per step"),
    "threshold": N_("load that triggers it"),
    "delay_min": N_("delay"),
    "check_interval_s": N_("check interval"),
    "give_up_return_share": N_("share who come back after giving up"),
    "give_up_return_after_s": N_("comeback after"),
    "policies.scale_up": N_("emergency scale-up"),
    "faults": N_("faults"),
}
# list owners shown by position ("Fault 1: start")
_LIST_OWNERS: dict[str, str] = {
    "faults": N_("Fault {n}"),
    "scale_up": N_("Emergency scale-up {n}"),
}
_TIME_OF_DAY = {"start", "end", "day.start", "day.end", "timetable.first_period_start"}


def _words(ident: str) -> str:
    text = re.sub(r"[_\-]+", " ", str(ident)).strip()
    return text[:1].upper() + text[1:]


def _pick(table: dict[str, str], key: str, tr: Tr) -> str:
    if key in table:
        return tr(table[key])
    return _words(key)


def kpi_label(kpi: str, tr: Tr = EN) -> str:
    if kpi in KPIS:
        return tr(KPIS[kpi][0])
    return _words(kpi)


def kpi_meaning(kpi: str, tr: Tr = EN) -> str:
    """What a KPI counts, in a few words ("" for a KPI without a description)."""
    return tr(KPI_MEANINGS[kpi]) if kpi in KPI_MEANINGS else ""


def kpi_kind(kpi: str) -> str:
    if kpi in KPIS:
        return KPIS[kpi][1]
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
        return PLATFORMS[key]
    for p in getattr(scenario, "platforms", None) or []:
        if p.name == key and p.label:
            return tr.text(p.label)
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
        # the scenario's words (the shipped ones in the catalogue), in the language's quotes
        # translators: quotation marks around a scenario's own words (German: „{text}“)
        return tr("“{text}”", text=tr.text(v))
    return value_words(v, tr, scenario)


def value_words(v: Any, tr: Tr = EN, scenario: Any = None) -> str:
    """A setting's value in words when it is an id (fault kinds, regions, platforms, ...)."""
    if isinstance(v, list):
        return ", ".join(value_words(x, tr, scenario) for x in v) or tr("none")
    if not isinstance(v, str):
        return tr.plain(v)
    for table in (FAULT_KINDS, REGIONS, SCHOOL_TYPES, TIERS):
        if v in table:
            return tr(table[v])
    if v in PLATFORMS:
        return platform(v, tr, scenario)
    if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", v):
        return _words(v)
    return v


def executor(name: str, tr: Tr = EN) -> str:
    """Where runs ran (``serial``, ``dask LocalCluster (2 workers)``, ``dask scheduler
    tcp://…``), in words."""
    if name == "serial":
        return tr("one process on this computer")
    m = re.fullmatch(r"dask LocalCluster \((\d+) workers?\)", name)
    if m:
        n = int(m[1])
        return tr.ngettext("Dask, {n} local worker", "Dask, {n} local workers", n,
                           n=tr.count(n))
    if name.startswith("dask scheduler "):
        return tr("Dask scheduler {address}", address=name[len("dask scheduler "):])
    return name


def cluster(name: str, tr: Tr = EN, scenario: Any = None) -> str:
    """A conference cluster as "<platform>" (its only cluster) or "<platform>, cluster <n>"."""
    for p in getattr(scenario, "platforms", None) or []:
        for j, c in enumerate(p.clusters):
            if c.name == name:
                owner = platform(p.name, tr, scenario)
                if len(p.clusters) == 1:
                    return owner
                return tr("{platform}, cluster {n}", platform=owner, n=j + 1)
    for key, words in PLATFORMS.items():  # cluster names start with their platform's
        if name.startswith(key.split("-")[0]):
            return words
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
    # a wildcard stands for every item or field: ``platforms[*].frontend`` is the front end
    # of every platform, ``jitter.*`` every jitter setting, ``tiers.*.memory_mb`` every tier's
    p = re.sub(r"\[\*\]|(?:\.|_)\*(?=\.|$)", "", p)
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
            owner = tr(_LIST_OWNERS[name], n=int(idx) + 1) + ":"
            rest = ".".join(x for x, _ in segs[j + 1:])
        else:
            rest = p
    elif segs and segs[0][0] == "school_servers" and len(segs) > 2:
        owner = tier(segs[2][0], tr) if segs[1][0] == "tiers" and len(segs) > 3 else ""
        rest = segs[-1][0]
    if owner and not rest:  # the platform or cluster itself
        return owner
    leaf = _LEAVES.get(rest) or _LEAVES.get(rest.rsplit(".", 1)[-1])
    last = rest.rsplit(".", 1)[-1] or p
    words = tr(leaf) if leaf else _words(re.sub(r"_(s|min)$", "", last))
    if owner and not owner.endswith(":"):
        # translators: a setting with the platform or cluster it belongs to, in your word
        # order ("IServ conference nodes"); a setting placed first gets a capital letter
        form = tr.pgettext("a setting of a platform or cluster", "{owner} {setting}")
        if form.startswith("{setting}"):  # first in the phrase: a capital
            words = _capital(words)
        return form.format(owner=owner, setting=words)
    return f"{owner} {words}".strip() if owner else _capital(words)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _resolve(items: Any, key: str) -> Any:
    key = key.strip().strip("'\"")
    if key.isdigit():
        i = int(key)
        return items[i] if i < len(items) else None
    return next((x for x in items if x.name == key), None)


# the causes of lost pupil-minutes (sim.model.causes); login_service:<platform> is composed
CAUSES: dict[str, str] = {
    "moderator_late": N_("teachers opening their rooms late"),
    "school_server:current": N_("current school servers"),
    "school_server:outdated": N_("outdated school servers"),
    "school_server_outage": N_("school servers down"),
    "school_server_crash": N_("school servers crashing under overload"),
    "uplink_outage": N_("school uplink outages"),
    "uplink_congestion": N_("congested school uplinks"),
    "frontend_outage": N_("platform login service outage"),
    "dispatcher": N_("the dispatcher"),
    "conference_capacity": N_("conference capacity"),
    "rate_limited": N_("the join-rate limit"),
    "node_loss": N_("lost conference nodes"),
    "node_loss_unseen": N_("rooms placed on lost nodes the dispatcher had not yet noticed"),
    "conference:degraded": N_("overloaded conference nodes"),
    "baseline": N_("the day as given"),
}


def cause(x: Any, tr: Tr = EN, scenario: Any = None) -> str:
    """A cause of lost minutes in words."""
    key = str(x)
    if key.startswith("login_service:"):
        p = platform(key.split(":", 1)[1], tr, scenario)
        return tr("login service of {platform}", platform=p)
    return _pick(CAUSES, key, tr)


# the policies a scenario's costs price (sim.model.costs.active_policies) in words
POLICIES: dict[str, str] = {
    "stagger": N_("staggered start"),
    "camera": N_("camera rule"),
    "join_rate_limit": N_("join-rate limit"),
}


def cost_item(item: Any, tr: Tr = EN) -> str:
    """A cost item (``scenario_cost``'s ``{"item", "fill"}``) in words: the item's msgid with
    its placeholders, a policy by its name in words ("policy: staggered start", not
    "policy stagger")."""
    fill = dict(item.get("fill") or {})
    if item.get("item") == "policy {name}":  # the stored msgid of sim.model.costs
        return tr("policy: {name}", name=_pick(POLICIES, str(fill.get("name", "")), tr))
    return tr(str(item.get("item", "")), **fill)
