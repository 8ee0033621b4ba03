"""The shipped scenarios' own words (name, description, platform and fault labels) as
messages, so that a German page shows them in German (issue 25, point 4).

A scenario's texts are the user's: :meth:`sim.report.i18n.Tr.text` looks them up in the
catalogue and shows them as written when the catalogue does not have them (a scenario a user
wrote stays in the user's words). The texts below are the shipped ones, whitespace collapsed as
:meth:`~sim.report.i18n.Tr.text` collapses it; ``tests/unit/test_scenario_texts.py`` fails
when a shipped scenario's text is missing here or in a catalogue.
"""

from __future__ import annotations

from sim.report.i18n import N_

SCENARIO_TEXTS = (
    # names
    N_("Mon 11 Jan 2021 — IServ dispatcher failure"),
    N_("Tue 12 Jan 2021 — rented servers fail, schools start a few minutes apart"),
    N_("Wed 13 Jan 2021 — stable platforms, outdated local servers struggle"),
    N_("Hannover's schools on the city platform"),
    N_("Lower Saxony, Szenario C, ordinary day (like Wed 13 Jan 2021)"),
    N_("IServ national platform, Thursday 14 Jan 2021"),
    N_("Staggered start in 15-minute slots by school number"),
    N_("Szenario C day with an IServ dispatcher fault of chosen length"),
    N_("February 2021 — Szenario C with the daily check-in of years 1–10"),
    N_("Staggered start within schools, by year (IServ's advice)"),
    N_("The week of 11–15 January 2021"),
    # descriptions
    N_("Lower Saxony, Szenario C, Monday to Friday. Monday's IServ dispatcher fault; rented "
       "servers added overnight and part of them failing on Tuesday, when schools start a few "
       "minutes apart; a stable Wednesday; Thursday and Friday as ordinary days — with the "
       "video share growing as confidence returns, schools that had trouble staggering the "
       "next day, pupils less patient after a bad day."),
    N_("Lower Saxony, Szenario C. IServ's dispatcher fails every room creation and join from "
       "07:50; a third of the capacity to place rooms comes back at 12:00, 13:00 and 14:00. "
       "The Bildungscloud starts with 250 servers and brings up 750 more, 30 minutes after its "
       "servers are more than 70 % busy."),
    N_("Lower Saxony, Szenario C. A quarter of IServ's conference servers (the smallest: "
       "rented machines) fail at 08:10 and come back in two steps at 08:50 and 09:05; schools "
       "spread their start over three slots five minutes apart."),
    N_("The default ordinary day, with every school in the city of Hannover moved to the "
       "city's data centre platform (80 conference servers instead of 40)."),
    N_("All of Lower Saxony's schools (≈2,900, ≈1.09 M pupils), 94 % of pupils at home. IServ "
       "(≈70 % of schools; about half on the school's own server) and the Niedersächsische "
       "Bildungscloud host video conferences on central BigBlueButton clusters; 52 Hannover "
       "schools use the city's platform. The central platforms are stable; outdated local "
       "servers (4–5 years old, ≈15 % of schools) can crash under the 08:00 login rush and "
       "restart after 30 minutes."),
    N_("Lower Saxony (all platforms) plus other states' IServ schools (external load with its "
       "own school-type mix, data/external_iserv_school_types.csv), so that IServ serves "
       "≈4,500 schools and ≈2.3 M pupils. IServ's central cluster: 1,360 servers of ≈250 "
       "participants; front end 1,200 workers."),
    N_("The default ordinary day with every school's timetable shifted into one of four start "
       "slots 15 minutes apart, by school number."),
    N_("Lower Saxony, Szenario C, an ordinary day; IServ's dispatcher fails every room "
       "creation and join from 07:50 until the end the what-if grid sets."),
    N_("The default ordinary day with the February decree's daily check-in: every class of "
       "years 1–10 begins the school day with a digital meeting at its first bell; 3 % of them "
       "hold it as a 20-minute video conference before their first lesson. Not in force on "
       "11–15 January 2021."),
    N_("The default ordinary day with every school's year groups in three start slots 10 "
       "minutes apart (IServ's advice of 8 January 2021: stagger start times by year or "
       "class)."),
    # platform labels
    N_("IServ (central BigBlueButton)"),
    N_("IServ (central BigBlueButton, national)"),
    N_("schulen-hannover.de (city data centre)"),
    # fault labels
    N_("faulty setting in IServ's dispatcher"),
    N_("school servers overloaded by the morning rush"),
    N_("rented external servers fail"),
    N_("IServ dispatcher fault"),
)
