"""The case page as a view-model: the case's own blocks and the sections other domains contribute.

The case page shows more than the case record: the workflow panel, the intervention plan and its
service tracks, who may act on a victim's data. Those belong to other domains, which depend on
``cases``; so that ``cases`` need not import them back, each contributes what it shows through a
registry, from its ``init_app``:

* ``register_section(name, order, build)``: ``build(view)`` returns a ``Section`` (a template
  included at the section's place, the section pills it adds, the names its template uses,
  buttons for the page header or a victim's card), or ``None`` to show nothing on this page;
* ``register_identity_rule(name, rule)``: ``rule(user, case, victim)`` says whether the user may
  see the victim's identity; every rule must agree (``may_see_identity``);
* ``register_shelter_rule(rule)``: ``rule(user, case)`` says which shelter tracks and agency
  codes the user may not learn (``queries.HiddenShelter``; the referrals know where a victim was
  referred);
* ``register_timeline_source(name, source)``: ``source(case)`` gives timeline items besides the
  case's own (the workflow's transitions).

Sections are shown by ``order``; the names their templates use are merged into one namespace,
so a section may use the names an earlier section of its domain gave (a name given twice is a
programming error). ``render_case_page`` renders the page; a view that refuses a form renders it
again with its own form (``note_form=…``, ``workflow_error=…``) and 422.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from flask import current_app, render_template, url_for
from flask_babel import format_decimal
from flask_login import current_user
from werkzeug.routing import BuildError

from app.cases import permissions, queries
from app.cases.completeness import still_missing
from app.cases.forms import AttachmentForm, ConfirmForm, ConsentForm, NoteForm
from app.cases.labels import consent_purpose_label
from app.cases.models import Case, CaseNote, Victim
from app.core.db import utcnow
from app.core.enums import (
    AmpkCategory,
    CaseState,
    ServiceType,
    TppoCara,
    TppoProses,
    TppoTujuan,
    TrackState,
)
from app.core.i18n import gettext as _
from app.core.memo import shared_reads

if TYPE_CHECKING:
    from app.auth.models import User

T = TypeVar("T")

VOCABULARIES = {
    "CaseState": CaseState,
    "TrackState": TrackState,
    "AmpkCategory": AmpkCategory,
    "TppoProses": TppoProses,
    "TppoCara": TppoCara,
    "TppoTujuan": TppoTujuan,
    "ServiceType": ServiceType,
}


@dataclass(frozen=True)
class Link:
    """A button to another page about the case (or one of its victims)."""

    url: str
    text: str


@dataclass(frozen=True)
class Section:
    """What one domain shows on the case page."""

    template: str | None = None  # included at the section's place; None: only names or links
    nav: tuple[tuple[str, str], ...] = ()  # (anchor, text) pills to the section's headings
    context: Mapping[str, object] = field(default_factory=dict)  # names its template uses
    links: tuple[Link, ...] = ()  # buttons in the page header
    victim_links: Mapping[int, Link] = field(default_factory=dict)  # a button per victim id


@dataclass(frozen=True)
class PageView:
    """Who is looking at which case, and what the request that renders the page brings along
    (a refused form with its errors, the identities revealed in this response …)."""

    user: User
    case: Case
    overrides: Mapping[str, object] = field(default_factory=dict)

    def get(self, name: str, kind: type[T]) -> T | None:
        """The override ``name`` when it is a ``kind``, else None."""
        value = self.overrides.get(name)
        return value if isinstance(value, kind) else None


SectionBuilder = Callable[[PageView], Section | None]
IdentityRule = Callable[["User", Case, Victim], bool]
ShelterRule = Callable[["User", Case], queries.HiddenShelter]
TimelineSource = Callable[[Case], Iterable[queries.TimelineItem]]


@dataclass(frozen=True)
class _Registered:
    order: int
    name: str
    build: SectionBuilder


_SECTIONS: dict[str, _Registered] = {}
_IDENTITY_RULES: dict[str, IdentityRule] = {}
_SHELTER_RULE: list[ShelterRule] = []
_TIMELINE_SOURCES: dict[str, TimelineSource] = {}


def register_section(name: str, order: int, build: SectionBuilder) -> None:
    """Show ``build``'s section on every case page, at ``order`` (the case's own blocks are at
    15-50 and 70-90: what is still missing, victims, perpetrators, incident, consent;
    attachments, notes, timeline).
    Registering a name again replaces it, so building the application twice is harmless."""
    _SECTIONS[name] = _Registered(order, name, build)


def register_identity_rule(name: str, rule: IdentityRule) -> None:
    """Add a condition for seeing a victim's identity on the case's pages."""
    _IDENTITY_RULES[name] = rule


def register_shelter_rule(rule: ShelterRule) -> None:
    """Say what of the case's shelters a user may not learn (one rule; registering replaces)."""
    _SHELTER_RULE[:] = [rule]


def hidden_shelter(user: User, case: Case) -> queries.HiddenShelter:
    """What the registered shelter rule hides from ``user`` on ``case``; nothing without one."""
    return _SHELTER_RULE[0](user, case) if _SHELTER_RULE else queries.HiddenShelter()


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Add ``source(case)``'s items to the case's timeline. Registering a name again replaces it."""
    _TIMELINE_SOURCES[name] = source


def may_see_identity(user: User, case: Case, victim: Victim) -> bool:
    """Whether every registered rule lets ``user`` see ``victim``'s identity (a child's is
    hidden until revealed besides, by the page)."""
    return all(rule(user, case, victim) for rule in _IDENTITY_RULES.values())


@dataclass(frozen=True)
class CasePage:
    """The page: the sections' templates, pills and buttons in order, and the names the
    templates use."""

    templates: tuple[str, ...]
    nav: tuple[tuple[str, str], ...]
    links: tuple[Link, ...]
    victim_links: Mapping[int, tuple[Link, ...]]
    context: Mapping[str, object]


def build_page(view: PageView) -> CasePage:
    templates: list[str] = []
    nav: list[tuple[str, str]] = []
    links: list[Link] = []
    victim_links: dict[int, list[Link]] = {}
    context: dict[str, object] = {}
    for registered in sorted(_SECTIONS.values(), key=lambda r: (r.order, r.name)):
        section = registered.build(view)
        if section is None:
            continue
        twice = context.keys() & section.context.keys()
        if twice:
            raise RuntimeError(f"case page section {registered.name!r} gives {sorted(twice)} again")
        context.update(section.context)
        if section.template is not None:
            templates.append(section.template)
        nav.extend(section.nav)
        links.extend(section.links)
        for victim_id, link in section.victim_links.items():
            victim_links.setdefault(victim_id, []).append(link)
    return CasePage(
        templates=tuple(templates),
        nav=tuple(nav),
        links=tuple(links),
        victim_links={victim_id: tuple(found) for victim_id, found in victim_links.items()},
        context=context,
    )


def render_case_page(case: Case, *, status: int = 200, **overrides: object) -> tuple[str, int]:
    """The case page of ``case`` for the signed-in user, answered with ``status``.

    ``overrides`` are what the sections take from this request: ``revealed`` (a frozenset of
    the victim ids whose identity is shown in this response), a refused ``note_form``,
    ``attachment_form``, ``consent_form`` with its ``consent_victim``, ``workflow_error`` …"""
    user: User = current_user._get_current_object()
    # the sections ask some of the same questions (the tracks, the notes, a victim's consent
    # ledger): each is read once for the page (``app.core.memo``)
    with shared_reads():
        queries.load_people(case)
        page = build_page(PageView(user, case, overrides))
        html = render_template(
            "cases/detail.html", case=case, page=page, **_case_context(user, case), **page.context
        )
    return html, status


# --- the case's own blocks -------------------------------------------------------------------


def initials(name: str | None) -> str:
    if not name:
        return "—"
    return "".join(part[0].upper() + "." for part in name.split() if part[:1].isalpha()) or "—"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024, 1))} KB"
    return f"{format_decimal(round(size / 1024 / 1024, 1))} MB"


def edit_url(case: Case) -> str | None:
    """The intake form of the case, once that form exists."""
    if "intake.edit" in current_app.view_functions:
        try:
            return url_for("intake.edit", case_id=case.id)
        except BuildError:
            return None
    return None


def _case_context(user: User, case: Case) -> dict[str, object]:
    """What the header and more than one section use."""
    hidden = hidden_shelter(user, case)
    return {
        "can_edit": permissions.can_edit_case(user, case),
        "overdue": queries.is_first_response_overdue(case, utcnow()),
        # where a victim is sheltered, hidden from anyone but the people working on the case
        # and the shelter (break-the-glass, a transfer's reader): the tracks and the agency codes
        "hidden_shelter_tracks": hidden.track_ids,
        "purpose_label": hidden.purpose_label(consent_purpose_label),
        "initials": initials,
        "file_size": file_size,
        "edit_url": edit_url,
        "V": VOCABULARIES,
    }


def _shown(view: PageView) -> set[int]:
    """The victims whose identity the page shows: a child's only when revealed in this
    response, and only where every identity rule agrees."""
    revealed = view.get("revealed", frozenset) or frozenset()
    return {
        v.id
        for v in view.case.victims
        if (not v.is_child or v.id in revealed) and may_see_identity(view.user, view.case, v)
    }


def _missing(view: PageView) -> Section | None:
    """What the intake record still lacks, with links into the intake form: for the people who
    may edit it."""
    url = edit_url(view.case)
    if url is None or not permissions.can_edit_case(view.user, view.case):
        return None
    items = still_missing(view.case)
    if not items:
        return None
    return Section(
        template="cases/_missing.html",
        context={"missing": [(item.text, f"{url}#{item.anchor}") for item in items]},
    )


def _victims(view: PageView) -> Section:
    shown = _shown(view)
    return Section(
        template="cases/_victims.html",
        nav=(("korban", _("Victims")),),
        context={
            "shown": shown,
            # People around a child (guardians, reporter, witnesses, perpetrators) identify the
            # child too: their names stay masked while any child victim's identity is.
            "people_masked": any(v.id not in shown for v in view.case.victims),
            "can_reveal": permissions.can_reveal_identity(view.user, view.case),
            "reveal_form": ConfirmForm(formdata=None),
        },
    )


def _perpetrators(view: PageView) -> Section:
    return Section(template="cases/_perpetrators.html", nav=(("pelaku", _("Perpetrators")),))


def _incident(view: PageView) -> Section:
    return Section(template="cases/_incident.html", nav=(("kejadian", _("Incident")),))


def _consents(view: PageView) -> Section:
    refused = view.get("consent_form", ConsentForm)
    victim = view.get("consent_victim", Victim)
    forms = {
        v.id: (
            refused
            if refused is not None and victim is not None and v.id == victim.id
            else ConsentForm(formdata=None, prefix=f"consent{v.id}")
        )
        for v in view.case.victims
    }
    return Section(
        template="cases/_consents.html",
        nav=(("persetujuan", _("Consent")),),
        context={"consent_forms": forms},
    )


def _attachments(view: PageView) -> Section:
    return Section(
        template="cases/_attachments.html",
        nav=(("lampiran", _("Attachments")),),
        context={
            "attachments": queries.attachments_of(view.case),
            "attachment_form": view.get("attachment_form", AttachmentForm)
            or AttachmentForm(formdata=None),
            "max_upload_mb": current_app.config["MAX_UPLOAD_MB"],
        },
    )


def _notes(view: PageView) -> Section:
    notes = queries.notes_of(view.case)
    return Section(
        template="cases/_notes.html",
        nav=(("catatan", _("Notes")),),
        context={
            "notes": notes,
            "corrections": _corrections(notes),
            "can_note": permissions.can_add_note(view.user, view.case),
            "note_form": view.get("note_form", NoteForm) or NoteForm(formdata=None),
        },
    )


def _corrections(notes: Iterable[CaseNote]) -> dict[int, list[CaseNote]]:
    corrections: dict[int, list[CaseNote]] = {}
    for note in notes:
        if note.corrects_id is not None:
            corrections.setdefault(note.corrects_id, []).append(note)
    return corrections


def _timeline(view: PageView) -> Section:
    return Section(
        template="cases/_timeline.html",
        nav=(("timeline", _("Timeline")),),
        context={
            "timeline": queries.timeline_of(
                view.case,
                [item for source in _TIMELINE_SOURCES.values() for item in source(view.case)],
            )
        },
    )


def register_case_sections() -> None:
    """The case's own blocks; the other domains' sections fall between them by order."""
    register_section("cases.missing", 15, _missing)
    register_section("cases.victims", 20, _victims)
    register_section("cases.perpetrators", 30, _perpetrators)
    register_section("cases.incident", 40, _incident)
    register_section("cases.consents", 50, _consents)
    register_section("cases.attachments", 70, _attachments)
    register_section("cases.notes", 80, _notes)
    register_section("cases.timeline", 90, _timeline)
