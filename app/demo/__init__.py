"""Demo data for ``make run``: ``flask demo load``.

What a fresh demo holds, in the order it is loaded (``operations.load_demo``):

1. the city and its regions, agencies of every type, the GT P2TPPO with its Sub GTs, population,
   and one demo account per role — plus an account at every partner agency that answers
   referrals and a supervisor at the province's UPTD PPA (``data.USERS``);
2. a few hundred imported cases in every state, dated before a fixed ``ANCHOR`` (``cases``);
3. the working day, dated back from the moment of loading (``day``, played through the
   operations by ``clock.replay``): referrals in every state at each partner agency, a transfer
   accepted and one waiting, complaints registered in the last days, their deadlines (the
   periodic check runs once), case notes, attachments and notifications;
4. targets of the headline indicators and the previous month rolled up (``figures``).

The data officer (``analis@simpul.demo``) works at the city's UPTD PPA, not at the dinas
(DP3A-3273). The data-quality queue covers the cases of the agencies where a user is data
officer or supervisor (``app.quality.permissions.quality_agency_ids``), and the dinas owns no
case, so a data officer placed there found an empty queue. Of the two ways out — place the demo
account at the UPTD PPA, or make a dinas's queue cover every agency of its region — the first is
a change of demo data only: it widens nobody's access (the queue shows case references and
issues that name people by label, K1 or P1, never an identity, and the data officer holds no case
permission), while the second would
give every data officer of a dinas the queue of agencies it does not run. The dashboards are
unchanged: both agencies belong to the same kab/kota (32.73), which is what the indicator pages
scope by. An older demo database gets the new grant on the next load; the old one is kept.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.demo.cli import demo_cli

    app.cli.add_command(demo_cli)
