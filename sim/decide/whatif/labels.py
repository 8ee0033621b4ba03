"""The what-if page's own words: its messages and the failure series it draws, as English
gettext msgids (their translations are in the report's catalogues, sim/report/locale; see
:mod:`sim.report.i18n`). The page's template and script name a message by key; :func:`ui`
hands them the messages translated, placeholders left for the script to fill.

Everything the page shares with the reports — KPI names, causes of lost minutes, config paths,
cost items, the service target — comes from the report's registry (:mod:`sim.report.labels`),
so a word has one home and one translation.
"""

from __future__ import annotations

from sim.report.figures import FAILURES
from sim.report.i18n import N_, Tr

#: Message key → English msgid. Keys are what the page's script and template use.
UI: dict[str, str] = {
    "title": N_("What if …? — {name}"),
    "lead": N_(
        "Move a control: the charts, key figures and the service verdict below switch at once "
        "to that simulated setting. Only simulated settings can be chosen; nothing between "
        "them is interpolated."
    ),
    "howto": N_(
        "To size a lever: set the others as planned, then read the line under it — it lists "
        "the simulated values at which the service target is met — or move it until the "
        "verdict turns green. Pin a setting to see another one against it."
    ),
    "levers": N_("Settings"),
    "pin": N_("Pin this setting for comparison"),
    "unpin": N_("Clear the pinned setting"),
    "pinned": N_("Pinned for comparison"),
    "pinned_none": N_("Nothing pinned: pin a setting to compare another one with it."),
    "current": N_("Shown"),
    "meets_from": N_("Needed with the other settings as shown: {value}"),
    "meets_at": N_("Target met at (other settings as shown): {values}"),
    "meets_nowhere": N_("Target met at none of the simulated values (other settings as shown)"),
    "not_simulated": N_("This setting has no successful runs: nothing to show."),
    "verdict_met": N_("Service target met"),
    "verdict_not_met": N_("Service target not met"),
    "verdict_ci": N_(" (at the 95 % confidence bound)"),
    "verdict_means": N_(" (on the means of {n} replication(s), see the note below)"),
    "misses": N_("Missed: {what}."),
    "verdict_unknown": N_("Service target: cannot be judged (a key figure is missing)."),
    "kpis": N_("Key figures (mean of the replications, 95 % confidence interval)"),
    "ci": N_("95 % CI {range}"),
    "ci_not_meaningful": N_("no 95 % CI from {n} run(s)"),
    "ci_note": N_(
        "Fewer than 3 replications per setting: the 95 % intervals of the key figures would "
        "mostly show the lack of data, so none are shown and the verdict uses the means. Run "
        "more replications before deciding."
    ),
    "pinned_value": N_("pinned {value} · difference {diff}"),
    "pp": N_("pp"),
    "capacity_title": N_("Participants and capacity over the day (mean of the replications)"),
    "capacity_axis": N_("participants"),
    "participants_of": N_("participants, {cluster}"),
    "capacity_of": N_("capacity, {cluster}"),
    "failures_title": N_("Failed join attempts per minute, by cause, and pupils still trying"),
    "failures_axis": N_("failures / min"),
    "trying_axis": N_("pupils still trying"),
    "trying": N_("pupils still trying to get in"),
    "pinned_prefix": N_("pinned: "),
    "lost": N_("Who lost the minutes"),
    "lost_note": N_(
        "Lost pupil-minutes of the setting by the cause they are charged to: each wait is "
        "charged to the first failure that started it (a pupil who never failed: to the "
        "teacher's). Mean of the replications; the share's 95 % interval is over the "
        "replications."
    ),
    "cause": N_("cause"),
    "minutes": N_("lost pupil-minutes charged"),
    "share": N_("share"),
    "interval": N_("95 % interval"),
    "interval_few": N_("95 % interval (only {n} runs: wide)"),
    "interval_range": N_("{lo} to {hi}"),
    "nothing_lost": N_("No pupil-minutes were lost at this setting."),
    "no_attribution": N_(
        "These runs did not record their lost minutes by cause (an older dlsim): run "
        "`dlsim whatif` with the grid file again."
    ),
    "cost": N_("Cost of the scenario as configured"),
    "cost_card": N_("Cost of the setting as configured (€)"),
    "cost_note": N_(
        "In €, from the scenario's costs section (data/SOURCES.md A56–A62: assumptions)."
    ),
    "cost_unpriced": N_(
        "The cost is the same at every value of {levers}: the costs section prices nothing "
        "they change, or prices it at 0 €."
    ),
    "cost_missing": N_("The cost of this setting cannot be computed: {why}."),
    "item": N_("item"),
    "quantity": N_("quantity"),
    "eur_each": N_("€ each"),
    "eur": N_("€"),
    "total": N_("total"),
    "about": N_("About this page"),
    "about_text": N_(
        "{points} simulated settings × {replications} replication(s) each, common random "
        "numbers (replication i uses the same seed at every setting). Base scenario: {base}."
        " Population scale {scale}. Service target: {target}. Built by dlsim {version} on "
        "{when}; the page is one file and works offline."
    ),
    "time_axis": N_("time of day"),
    "footer": N_("Generated by dlsim {version}. Self-contained: works offline, opened from disk."),
}

#: Failure counts recorded per minute (series component ``total``), in the order drawn, with
#: their English msgids: the run report's where it draws the same series
#: (:data:`sim.report.figures.FAILURES`).
FAILED_SERIES: dict[str, str] = {
    "failed_frontend": FAILURES["failed_frontend"][0],
    "failed_dispatcher": FAILURES["failed_dispatcher"][0],
    "refused_capacity": FAILURES["refused_capacity"][0],
    "rate_limited": N_("refused: join-rate limit"),
    "failed_logins": N_("failed: login at the school server"),
}


def ui(tr: Tr) -> dict[str, str]:
    """The page's messages in ``tr``'s language (placeholders left for the script)."""
    return {k: tr(v) for k, v in UI.items()}


def failed_series(tr: Tr) -> list[dict[str, str]]:
    return [{"key": k, "label": tr(v)} for k, v in FAILED_SERIES.items()]
