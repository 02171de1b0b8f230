"""The printable case summary (issue #17): what the chosen sections of a case say, in the
user's language, for handing to the police, a court or a shelter on paper.

Built from the case page's own rules, never looser: the identities the page would hide stay
hidden (a child's until revealed for this summary, a restricted victim's always, and the people
around a child while any child's identity is hidden: ``app.cases.page``), the shelter a viewer
may not learn stays hidden (``hidden_shelter``), and every vocabulary value is its label. The
result is plain text in ``Part``s; ``summary_pdf`` draws it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask_babel import format_date, format_datetime, get_locale, ngettext
from sqlalchemy import select

from app.assessments.models import Assessment
from app.cases import queries as case_queries
from app.cases.models import Case, Victim
from app.cases.page import hidden_shelter, initials, may_see_identity
from app.cases.permissions import can_reveal_identity
from app.core.enums import CaseState, TppoCara, TppoProses, TppoTujuan, TrackState
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.labels import label
from app.extensions import db
from app.referrals.queries import referrals_of_case
from app.services.queries import service_tracks_of
from app.workflow.queries import transitions_of

if TYPE_CHECKING:
    from app.auth.models import User

# The sections a summary may hold, in the order it prints them: (key, title).
SECTIONS: tuple[tuple[str, Any], ...] = (
    ("identitas", _l("Victim identity")),
    ("pelaku", _l("Perpetrators and reporter")),
    ("kronologi", _l("Incident and chronology")),
    ("asesmen", _l("Assessment")),
    ("rencana", _l("Intervention plan")),
    ("layanan", _l("Services and their status")),
    ("rujukan", _l("Referrals")),
    ("catatan", _l("Notes")),
)
SECTION_KEYS = tuple(key for key, _title in SECTIONS)

# control characters a PDF cannot hold (a pasted kronologi may bring them)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Block:
    """One thing of a section: a heading, label/value pairs, then paragraphs of text."""

    heading: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class CaseSummary:
    """The whole summary: what heads the first page, what every page's footer says, the parts."""

    title: str
    reference: str
    overview: tuple[tuple[str, str], ...]
    printed_by: str
    printed_at: str
    masked_note: str | None
    parts: tuple[Part, ...] = field(default_factory=tuple)


def clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "")


def _hidden() -> str:
    return str(_("hidden"))


# one date style per locale (issue #17): "7 Des 2026" in Indonesian, "7 Dec 2026" in English;
# times as each writes them ("14.30", "14:30"), in DISPLAY_TIMEZONE
DATE_FORMAT = "d MMM yyyy"
TIME_FORMATS = {"id": "HH.mm"}


def _date(value: dt.date | None) -> str:
    return format_date(value, DATE_FORMAT) if value else "—"


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    locale = get_locale()
    time = TIME_FORMATS.get(locale.language if locale else "id", "HH:mm")
    return str(format_datetime(value, f"{DATE_FORMAT}, {time}"))


def _join(values: Iterable[str]) -> str:
    return ", ".join(values) or "—"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "—"
    return str(_("Yes") if value else _("No"))


def revealable(user: User, case: Case) -> list[Victim]:
    """The child victims whose identity ``user`` may reveal in a summary (as on the case page:
    the reveal permission and every identity rule)."""
    if not can_reveal_identity(user, case):
        return []
    return [v for v in case.victims if v.is_child and may_see_identity(user, case, v)]


def shown_victims(user: User, case: Case, revealed: frozenset[int]) -> set[int]:
    """The victims whose identity the summary shows: the case page's rule
    (``app.cases.page._shown``) with ``revealed`` the children revealed for this summary."""
    return {
        v.id
        for v in case.victims
        if (not v.is_child or v.id in revealed) and may_see_identity(user, case, v)
    }


# --- the sections -----------------------------------------------------------------------------


def _victims(case: Case, shown: set[int], people_masked: bool) -> tuple[Block, ...]:
    blocks = []
    for v in case.victims:
        show = v.id in shown
        heading = f"{v.label} · {label(v.sex)}"
        if v.age_at_incident is not None:
            heading += ", " + ngettext("%(num)d year", "%(num)d years", v.age_at_incident)
        if v.is_child:
            heading += " · " + _("Child")
        pairs: list[tuple[str, str]] = [
            (_("Name"), (v.name or "—") if show else f"{v.initials} ({_hidden()})"),
            (_("NIK"), (v.nik or "—") if show else _hidden()),
            (_("Date of birth"), _date(v.birth_date) if show else _hidden()),
            (_("Phone"), (v.phone or "—") if show else _hidden()),
        ]
        address = v.address or "—"
        if v.domicile_region is not None:
            address = f"{address}, {v.domicile_region.name}"
        pairs.append((_("Address"), address if show else _hidden()))
        pairs.append((_("Nationality"), label(v.nationality)))
        if v.education:
            pairs.append((_("Education"), label(v.education)))
        if v.occupation:
            pairs.append((_("Occupation"), v.occupation))
        if v.marital_status:
            pairs.append((_("Marital status"), label(v.marital_status)))
        if v.disability:
            pairs.append((_("Disability"), v.disability_kind or _("Yes")))
        if v.pregnant:
            pairs.append((_("Pregnant"), _("Yes")))
        pairs.append((_("Violence types"), _join(label(t.type) for t in v.violence_types)))
        if v.ampk_categories:
            pairs.append(
                (
                    _("Special protection (AMPK)"),
                    _join(label(a.category) for a in v.ampk_categories),
                )
            )
        if v.tppo_proses or v.tppo_cara or v.tppo_tujuan:
            pairs.append((_("Process"), _join(label(x, TppoProses) for x in v.tppo_proses)))
            pairs.append((_("Means"), _join(label(x, TppoCara) for x in v.tppo_cara)))
            pairs.append(
                (_("Purpose of exploitation"), _join(label(x, TppoTujuan) for x in v.tppo_tujuan))
            )
        if v.tppo_cross_border is not None:
            border = _yes_no(v.tppo_cross_border)
            if v.tppo_destination_country:
                border += f" · {v.tppo_destination_country}"
            pairs.append((_("Cross-border"), border))
        for g in v.guardians:
            text = g.name if not people_masked else f"{initials(g.name)} ({_hidden()})"
            if g.relation:
                text += f" · {g.relation}"
            if g.phone:
                text += f" · {g.phone if not people_masked else _hidden()}"
            if g.perpetrator_id:
                text += " · " + _("alleged perpetrator — may not consent or receive information")
            pairs.append((_("Guardian"), text))
        blocks.append(Block(heading=heading, pairs=tuple(pairs)))
    if not blocks:
        blocks.append(Block(paragraphs=(_("No victims recorded."),)))
    return tuple(blocks)


def _perpetrators(case: Case, people_masked: bool) -> tuple[Block, ...]:
    blocks = []
    for p in case.perpetrators:
        pairs: list[tuple[str, str]] = []
        if p.name:
            pairs.append((_("Name"), initials(p.name) if people_masked or p.is_child else p.name))
        sex = label(p.sex) if p.sex else "—"
        if p.age is not None:
            sex += ", " + ngettext("%(num)d year", "%(num)d years", p.age)
        pairs.append((_("Sex and age"), sex))
        if p.is_child:
            pairs.append((_("Note"), _("Child in conflict with the law")))
        for r in p.relations:
            pairs.append(
                (
                    _("Relationship"),
                    _(
                        "to %(victim)s: %(relationship)s",
                        victim=r.victim.label,
                        relationship=label(r.relationship_),
                    ),
                )
            )
        blocks.append(Block(heading=p.label, pairs=tuple(pairs)))
    if not blocks:
        blocks.append(Block(paragraphs=(_("No perpetrator recorded."),)))
    reporter = label(case.reporter_kind)
    if case.reporter_kind != "anonim" and case.reporter_name:
        name = initials(case.reporter_name) if people_masked else case.reporter_name
        reporter += f" · {name}"
    if case.reporter_relation:
        reporter += f" · {case.reporter_relation}"
    blocks.append(
        Block(
            heading=_("Reporter"),
            pairs=((_("Reporter"), reporter), (_("Channel"), label(case.channel))),
        )
    )
    return tuple(blocks)


def _incident(case: Case) -> tuple[Block, ...]:
    if case.incident_date is None:
        when = "—"
    elif case.incident_date_precision == "tahun":
        when = str(case.incident_date.year)
    elif case.incident_date_precision == "bulan":
        when = format_date(case.incident_date, "MMMM yyyy")
    else:
        when = _date(case.incident_date)
    place = label(case.incident_place) if case.incident_place else "—"
    if case.ranah:
        place += f" · {label(case.ranah)}"
    pairs = (
        (_("Date"), when),
        (_("Place"), place),
        (_("Region"), case.incident_region.name if case.incident_region else "—"),
    )
    kronologi = tuple(clean(case.kronologi).splitlines()) or (_("No chronology recorded."),)
    return (Block(pairs=pairs), Block(heading=_("Chronology"), paragraphs=kronologi))


def _assessments(case: Case) -> tuple[Block, ...]:
    found = {
        a.victim_id: a
        for a in db.session.scalars(select(Assessment).where(Assessment.case_id == case.id))
    }
    blocks = []
    for v in case.victims:
        a = found.get(v.id)
        if a is None:
            status = (
                _("complete (recorded before this system)")
                if case.assessment_completed_at
                else _("not started")
            )
            blocks.append(Block(heading=v.label, pairs=((_("Status"), status),)))
            continue
        status = _("complete") if a.completed_at else _("in progress")
        pairs: list[tuple[str, str]] = [(_("Status"), status)]
        if a.completed_at:
            pairs.append((_("Completed"), _when(a.completed_at)))
        for finding in a.findings:
            text = label(finding.level) if finding.level else "—"
            if finding.needs:
                text += " · " + _("Needs") + ": " + clean(finding.needs)
            if finding.risks:
                text += " · " + _("Risks") + ": " + clean(finding.risks)
            pairs.append((label(finding.area), text))
        paragraphs = tuple(clean(a.summary).splitlines()) if a.summary else ()
        blocks.append(Block(heading=v.label, pairs=tuple(pairs), paragraphs=paragraphs))
    if not blocks:
        blocks.append(Block(paragraphs=(_("No victims recorded."),)))
    return tuple(blocks)


def _provider(case: Case, track: Any, hidden: frozenset[int]) -> str:
    if track.id in hidden:
        return str(_("A safe house (hidden)"))
    return str(track.provider.name if track.provider else case.agency.name)


def _plan(case: Case, tracks: list[Any], hidden: frozenset[int]) -> tuple[Block, ...]:
    if not tracks:
        return (Block(paragraphs=(_("No services planned yet."),)),)
    return tuple(
        Block(
            heading=f"{label(t.service_type)} · {t.victim.label}",
            pairs=(
                (_("Provider"), _provider(case, t, hidden)),
                (_("Target date"), _date(t.target_date)),
                (_("Planned"), _when(t.planned_at)),
            ),
        )
        for t in tracks
    )


def _services(case: Case, tracks: list[Any], hidden: frozenset[int]) -> tuple[Block, ...]:
    if not tracks:
        return (Block(paragraphs=(_("No services planned yet."),)),)
    history: dict[int, list[Any]] = {t.id: [] for t in tracks}
    for row in transitions_of(case):
        if row.track_id in history:
            history[row.track_id].append(row)
    blocks = []
    for t in tracks:
        pairs: list[tuple[str, str]] = [
            (_("Status"), label(t.state, TrackState)),
            (_("Provider"), _provider(case, t, hidden)),
        ]
        if t.started_at:
            pairs.append((_("Started"), _when(t.started_at)))
        if t.ended_at:
            pairs.append((_("Ended"), _when(t.ended_at)))
        steps = []
        for h in history[t.id]:
            text = f"{_when(h.at)} · {label(h.to_state, TrackState)}"
            outcome = (h.data or {}).get("outcome")
            if outcome:
                text += f" — {clean(str(outcome))}"
            steps.append(text)
        blocks.append(
            Block(
                heading=f"{label(t.service_type)} · {t.victim.label}",
                pairs=tuple(pairs),
                paragraphs=tuple(steps),
            )
        )
    return tuple(blocks)


def _referrals(case: Case, tracks: list[Any], hidden: frozenset[int]) -> tuple[Block, ...]:
    by_track: Mapping[int, list[Any]] = referrals_of_case(case) if tracks else {}
    blocks = []
    for t in tracks:
        if t.id in hidden:
            continue  # where a victim is sheltered: not for this reader
        for r in reversed(by_track.get(t.id, [])):  # oldest first
            if r.sent_at is None:
                continue  # a draft was never handed over
            pairs: list[tuple[str, str]] = [
                (_("To"), r.to_agency.name),
                (_("Status"), label(r.state)),
                (_("Sent"), _when(r.sent_at)),
            ]
            if r.accepted_at:
                pairs.append((_("Accepted"), _when(r.accepted_at)))
            if r.ended_at:
                pairs.append((_("Ended"), _when(r.ended_at)))
            if r.outcome:
                pairs.append((_("Outcome"), clean(r.outcome)))
            if r.decline_reason:
                pairs.append((_("Reason for declining"), clean(r.decline_reason)))
            blocks.append(
                Block(
                    heading=f"{label(t.service_type)} · {t.victim.label}",
                    pairs=tuple(pairs),
                )
            )
    if not blocks:
        blocks.append(Block(paragraphs=(_("No referrals sent."),)))
    return tuple(blocks)


def _notes(case: Case) -> tuple[Block, ...]:
    notes = case_queries.notes_of(case)
    blocks = []
    for note in notes:
        heading = f"{_when(note.at)} · {note.author.name if note.author else '—'}"
        if note.corrects_id is not None:
            heading += " · " + _("Correction")
        blocks.append(Block(heading=heading, paragraphs=tuple(clean(note.body).splitlines())))
    if not blocks:
        blocks.append(Block(paragraphs=(_("No notes."),)))
    return tuple(blocks)


# --- the summary ------------------------------------------------------------------------------


def build_summary(
    user: User,
    case: Case,
    sections: Iterable[str],
    *,
    revealed: frozenset[int] = frozenset(),
    now: dt.datetime,
) -> CaseSummary:
    """The summary of ``case`` for ``user`` with the ``sections`` chosen (keys of
    ``SECTIONS``, printed in that order whatever the order given); ``revealed`` the child
    victims whose identity the user chose to reveal (checked by the view: ``revealable``)."""
    chosen = set(sections)
    unknown = chosen - set(SECTION_KEYS)
    if unknown:
        raise ValueError(f"unknown summary sections: {sorted(unknown)}")
    case_queries.load_people(case)
    shown = shown_victims(user, case, revealed)
    people_masked = any(v.id not in shown for v in case.victims)
    hidden = hidden_shelter(user, case).track_ids
    needs_tracks = chosen & {"rencana", "layanan", "rujukan"}
    tracks = (
        sorted(service_tracks_of(case), key=lambda t: (t.victim_id, t.id)) if needs_tracks else []
    )
    build = {
        "identitas": lambda: _victims(case, shown, people_masked),
        "pelaku": lambda: _perpetrators(case, people_masked),
        "kronologi": lambda: _incident(case),
        "asesmen": lambda: _assessments(case),
        "rencana": lambda: _plan(case, tracks, hidden),
        "layanan": lambda: _services(case, tracks, hidden),
        "rujukan": lambda: _referrals(case, tracks, hidden),
        "catatan": lambda: _notes(case),
    }
    parts = tuple(
        Part(key=key, title=str(title), blocks=build[key]())
        for key, title in SECTIONS
        if key in chosen
    )
    overview = (
        (_("Reference"), case.reference or "—"),
        (_("Agency"), case.agency.name),
        (_("Received"), _when(case.received_at)),
        (_("Case types"), _join(label(t) for t in case.case_types)),
        (_("Risk"), label(case.risk) if case.risk else "—"),
        (_("Stage"), label(case.state, CaseState)),
        (_("Case manager"), case.case_manager.name if case.case_manager else "—"),
        (_("Victims"), str(len(case.victims))),
    )
    masked_note = (
        _(
            "Identities marked hidden are not printed: a child's identity is hidden unless it "
            "was revealed for this summary, and so are the names of the people around the child."
        )
        if people_masked
        else None
    )
    return CaseSummary(
        title=_("Case summary %(reference)s", reference=case.reference or "—"),
        reference=case.reference or "—",
        overview=overview,
        printed_by=user.name,
        printed_at=_when(now),
        masked_note=masked_note,
        parts=parts,
    )
