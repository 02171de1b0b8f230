"""The intake form (domain.md §2.1-2.2) and its mapping onto ``app.cases.intake.Intake``.

The form only turns what was typed into values (a date, a number); it decides nothing else. Every
rule lives in ``check_intake``, whose problems come back with paths named like the form's fields
(``victims-0-birth_date``) and are shown next to them by ``attach_problems``.

Rows (victims, perpetrators, guardians, consent decisions, witnesses) are added and removed by
submit buttons, so the page works without JavaScript: ``remove_row`` renumbers the posted data,
``add_row`` appends a blank entry, and nothing is saved until a save button is pressed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from app.cases.intake import (
    JAKARTA,
    KRONOLOGI_MAX,
    NOTE_MAX,
    ConsentData,
    GuardianData,
    Intake,
    PerpetratorData,
    Problem,
    VictimData,
)
from app.cases.labels import consent_purpose_label  # importing it registers the labels
from app.cases.models import Case, Victim
from app.core.bounds import YEAR_OUT_OF_RANGE, year_in_range
from app.core.enums import (
    CONSENT_PURPOSES_FIXED,
    AmpkCategory,
    CaseType,
    Channel,
    ConsentDecision,
    ConsentGiver,
    Education,
    IncidentDatePrecision,
    IncidentPlace,
    Kewenangan,
    MaritalStatus,
    Nationality,
    Ranah,
    Relationship,
    Religion,
    ReporterKind,
    Risk,
    Sex,
    TppoCara,
    TppoProses,
    TppoTujuan,
    ViolenceType,
)
from app.core.forms import Form, MultiCheckboxField, SubForm, parse_id
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices

# --- fields: coercion only, with messages people can read -----------------------------------

NOT_KNOWN = _l("Not known")

# Enough for a trafficking ring in one case; rows past these are not read.
MAX_ROWS = {"victims": 100, "perpetrators": 50, "witnesses": 50, "guardians": 10, "consents": 30}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _digits_only(value: Any) -> Any:
    """A NIK is often written in groups (``3273 0101 …``)."""
    return re.sub(r"[\s.-]", "", value) if isinstance(value, str) else value


def _parse_date(text: str) -> dt.date:
    """``2025-03-14`` (what date inputs send) or ``14-03-2025`` / ``14/03/2025`` (typed)."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text)


class _YearOutOfRange(ValueError):
    pass


def _bounded(day: dt.date) -> dt.date:
    """The date, when its year is within ``app.core.bounds`` (a year 1 or 9999 is a typing
    mistake, and would not survive the conversion from Jakarta time to UTC)."""
    if not year_in_range(day):
        raise _YearOutOfRange
    return day


class IntakeDateField(DateField):  # type: ignore[misc]  # WTForms ships no types
    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = _bounded(_parse_date(valuelist[0]))
        except _YearOutOfRange:
            self.data = None
            raise ValueError(YEAR_OUT_OF_RANGE) from None
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Enter a date, e.g. 14-03-2025.")) from exc


class IntakeDateTimeField(DateTimeLocalField):  # type: ignore[misc]  # WTForms ships no types
    """A local date and time as people in Indonesia read it (Asia/Jakarta), kept naive here;
    ``jakarta_to_utc`` turns it into the stored UTC time."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        day, _, time = valuelist[0].strip().replace("T", " ").partition(" ")
        try:
            hours, minutes = (int(part) for part in time.split(":")[:2])
            self.data = dt.datetime.combine(_bounded(_parse_date(day)), dt.time(hours, minutes))
        except _YearOutOfRange:
            self.data = None
            raise ValueError(YEAR_OUT_OF_RANGE) from None
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Enter a date and time, e.g. 14-03-2025 09:30.")) from exc


class IntakeIntegerField(IntegerField):  # type: ignore[misc]  # WTForms ships no types
    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Enter a whole number.")) from exc


def _tristate(value: Any) -> bool | None:
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, bool):
        return value
    return str(value) in ("1", "true", "True", "ya")


class TriStateField(SelectField):  # type: ignore[misc]  # WTForms ships no types
    """Yes / no / not known."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(
            label,
            choices=[("", NOT_KNOWN), ("1", _l("Yes")), ("0", _l("No"))],
            coerce=_tristate,
            validate_choice=False,
            **kwargs,
        )

    def _value(self) -> str:
        return "" if self.data is None else ("1" if self.data else "0")


def _select(label: Any, vocabulary: Any, *, blank: Any = "—", **kwargs: Any) -> SelectField:
    """A select over a vocabulary. Unknown values are not refused here: ``check_intake`` says
    "choose a value from the list" next to the field."""
    options = [("", blank), *choices(vocabulary)] if blank is not None else choices(vocabulary)
    return SelectField(label, choices=options, validate_choice=False, **kwargs)


def _radio(label: Any, vocabulary: Any, **kwargs: Any) -> RadioField:
    return RadioField(label, choices=choices(vocabulary), validate_choice=False, **kwargs)


def _checks(label: Any, vocabulary: Any) -> MultiCheckboxField:
    return MultiCheckboxField(label, choices=choices(vocabulary), validate_choice=False)


def _text(label: Any, limit: int, **kwargs: Any) -> StringField:
    """Length limits the rules do not cover are still the database's: keep them here."""
    return StringField(
        label,
        filters=[_strip],
        validators=[Length(max=limit, message=_l("At most %(n)d characters.", n=limit))],
        **kwargs,
    )


def _consent_purposes() -> list[tuple[str, str]]:
    return [(p, consent_purpose_label(p)) for p in CONSENT_PURPOSES_FIXED]


# --- the rows -------------------------------------------------------------------------------


class GuardianRowForm(SubForm):
    name = _text(_l("Name"), 200)
    relation = _text(_l("Relation to the victim"), 100)
    phone = _text(_l("Phone"), 40, render_kw={"type": "tel", "autocomplete": "off"})
    # "" = not a perpetrator; "2" = the guardian is perpetrator 2 (choices set per request)
    perpetrator = SelectField(
        _l("Is this guardian one of the alleged perpetrators?"),
        choices=[("", _l("No"))],
        validate_choice=False,
    )


class ConsentRowForm(SubForm):
    purpose = SelectField(
        _l("Purpose"), choices=_consent_purposes, validate_choice=False, default="layanan"
    )
    decision = _radio(_l("Decision"), ConsentDecision)
    given_by = _radio(_l("Decided by"), ConsentGiver, default=ConsentGiver.KORBAN.value)
    given_by_name = _text(_l("Name of the guardian who decided"), 200)
    at = IntakeDateTimeField(_l("Date and time of the decision"))


class VictimRowForm(SubForm):
    id = HiddenField()  # an existing victim (editing); empty for a new one
    # "" = not decided, "new" = a different person, "<id>" = the same person as in another case
    link_person = HiddenField()

    sex = _radio(_l("Sex"), Sex)
    name = _text(_l("Name"), 200, render_kw={"autocomplete": "off"})
    birth_date = IntakeDateField(_l("Date of birth"))
    age = IntakeIntegerField(
        _l("Age at the incident (years)"), render_kw={"inputmode": "numeric", "min": 0}
    )
    violence_types = _checks(_l("Types of violence"), ViolenceType)

    nik = StringField(
        _l("NIK"),
        filters=[_strip, _digits_only],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 20},
    )
    phone = _text(_l("Phone"), 40, render_kw={"type": "tel", "autocomplete": "off"})
    address = TextAreaField(
        _l("Address"), filters=[_strip], render_kw={"rows": 2, "maxlength": NOTE_MAX}
    )
    domicile_region_code = _text(
        _l("Region of residence (Kemendagri code)"),
        13,
        render_kw={"list": "intake-regions", "autocomplete": "off"},
    )
    nationality = _select(_l("Nationality"), Nationality, blank=None, default=Nationality.WNI.value)
    education = _select(_l("Education"), Education)
    occupation = _text(_l("Occupation"), 100)
    marital_status = _select(_l("Marital status"), MaritalStatus)
    religion = _select(_l("Religion (optional)"), Religion)
    disability = BooleanField(_l("Has a disability"))
    disability_kind = _text(_l("Kind of disability"), 200)
    pregnant = TriStateField(_l("Pregnant"))
    has_nik = TriStateField(_l("Has a NIK"))
    has_akta = TriStateField(_l("Has a birth certificate (akta kelahiran)"))
    has_kia = TriStateField(_l("Has a child identity card (KIA)"))

    ampk_categories = _checks(
        _l("Categories of special protection (UU 35/2014 Pasal 59 ayat 2)"), AmpkCategory
    )

    tppo_proses = _checks(_l("Process"), TppoProses)
    tppo_cara = _checks(_l("Means"), TppoCara)
    tppo_tujuan = _checks(_l("Purpose of exploitation"), TppoTujuan)
    tppo_cross_border = TriStateField(_l("Across a border"))
    tppo_destination_country = _text(_l("Destination country"), 100)
    tppo_recruiter = _text(_l("Recruiter or placement agency"), 200)
    tppo_documents = TextAreaField(
        _l("Documents (passport, identity card: who holds them)"),
        filters=[_strip],
        render_kw={"rows": 2, "maxlength": NOTE_MAX},
    )

    guardians = FieldList(
        FormField(GuardianRowForm, label=_l("Guardian")),
        label=_l("Guardians"),
        min_entries=0,
        max_entries=MAX_ROWS["guardians"],
    )
    consents = FieldList(
        FormField(ConsentRowForm, label=_l("Consent decision")),
        label=_l("Consent decisions"),
        min_entries=0,
        max_entries=MAX_ROWS["consents"],
    )


class PerpetratorRowForm(SubForm):
    id = HiddenField()
    name = _text(_l("Name"), 200, render_kw={"autocomplete": "off"})
    sex = _select(_l("Sex"), Sex, blank=NOT_KNOWN)
    age = IntakeIntegerField(_l("Age (years)"), render_kw={"inputmode": "numeric", "min": 0})
    # one entry per victim, in the victims' order ("" = not stated)
    relationships = FieldList(
        _select(_l("Relationship"), Relationship),
        label=_l("Relationship to each victim"),
        min_entries=0,
    )
    notes = TextAreaField(
        _l("Notes"), filters=[_strip], render_kw={"rows": 2, "maxlength": NOTE_MAX}
    )


class WitnessRowForm(SubForm):
    name = _text(_l("Name"), 200, render_kw={"autocomplete": "off"})
    phone = _text(_l("Phone"), 40, render_kw={"type": "tel", "autocomplete": "off"})


# --- the form -------------------------------------------------------------------------------


class IntakeForm(Form):
    agency = SelectField(_l("Agency"), choices=[], validate_choice=False)
    version = HiddenField()

    received_at = IntakeDateTimeField(_l("Received at"))
    channel = _select(_l("Channel"), Channel)
    case_types = _checks(_l("Case types"), CaseType)
    risk = _radio(_l("Risk level"), Risk)
    kewenangan = _select(
        _l("Competence (kewenangan)"), Kewenangan, blank=None, default=Kewenangan.KABKOTA.value
    )

    reporter_kind = _radio(_l("Who reports"), ReporterKind, default=ReporterKind.KORBAN.value)
    reporter_name = _text(_l("Name of the reporter"), 200)
    reporter_phone = _text(
        _l("Phone of the reporter"), 40, render_kw={"type": "tel", "autocomplete": "off"}
    )
    reporter_relation = _text(_l("Relation of the reporter to the victim"), 100)

    incident_date = IntakeDateField(_l("Date of the incident"))
    incident_date_precision = _select(
        _l("How exact is this date"),
        IncidentDatePrecision,
        blank=None,
        default=IncidentDatePrecision.HARI.value,
    )
    incident_region_code = _text(
        _l("Region of the incident (Kemendagri code)"),
        13,
        render_kw={"list": "intake-regions", "autocomplete": "off"},
    )
    incident_place = _select(_l("Place of the incident"), IncidentPlace)
    ranah = _select(_l("Domain (ranah)"), Ranah)
    kronologi = TextAreaField(
        _l("Chronology (kronologi)"),
        filters=[_strip],
        render_kw={"rows": 5, "maxlength": KRONOLOGI_MAX},
        description=_l("Confidential. Write down what happened in the words of the person."),
    )

    victims = FieldList(
        FormField(VictimRowForm, label=_l("Victim")),
        label=_l("Victims"),
        min_entries=1,
        max_entries=MAX_ROWS["victims"],
    )
    perpetrators = FieldList(
        FormField(PerpetratorRowForm, label=_l("Perpetrator")),
        label=_l("Perpetrators"),
        min_entries=0,
        max_entries=MAX_ROWS["perpetrators"],
    )
    witnesses = FieldList(
        FormField(WitnessRowForm, label=_l("Witness")),
        label=_l("Witnesses"),
        min_entries=0,
        max_entries=MAX_ROWS["witnesses"],
    )

    # Problems on a list or a row rather than on one field (``victims``: "add a victim").
    container_errors: dict[str, list[Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.container_errors = {}
        self.sync_rows()

    def errors_in(self, *fields: Any) -> bool:
        """Whether any of ``fields`` (a field, a row or a list, and anything inside it) has an
        error to show: a collapsed section with one opens."""
        for field in fields:
            for f in _walk(field):
                if isinstance(f, (FieldList, FormField)):
                    if self.container_errors.get(f.name):
                        return True
                elif f.errors:
                    return True
        return False

    def sync_rows(self) -> None:
        """Every perpetrator has one relationship per victim; guardians choose among the
        perpetrators. Called after rows were added or removed."""
        victims = len(self.victims.entries)
        options = [("", _l("No"))] + [
            (str(i), _l("Yes, perpetrator %(n)d", n=i))
            for i in range(1, len(self.perpetrators.entries) + 1)
        ]
        for entry in self.perpetrators.entries:
            relationships = entry.form.relationships
            while len(relationships.entries) < victims:
                relationships.append_entry()
            while len(relationships.entries) > victims:
                relationships.pop_entry()
        for victim in self.victims.entries:
            for guardian in victim.form.guardians.entries:
                guardian.form.perpetrator.choices = options


# --- new rows, and removing rows from posted data ---------------------------------------------


def now_in_jakarta() -> dt.datetime:
    return dt.datetime.now(JAKARTA).replace(tzinfo=None, second=0, microsecond=0)


def new_consent_data() -> dict[str, Any]:
    return {"purpose": "layanan", "given_by": ConsentGiver.KORBAN.value, "at": now_in_jakarta()}


def new_victim_data() -> dict[str, Any]:
    return {"consents": [new_consent_data()]}


def new_intake_form_data() -> dict[str, Any]:
    """A fresh form: the common case, one victim (with the consent to services to record) and
    one perpetrator."""
    return {"received_at": now_in_jakarta(), "victims": [new_victim_data()], "perpetrators": [{}]}


def new_quick_form_data() -> dict[str, Any]:
    """A fresh quick intake: one victim with the consent to services to ask about; a
    perpetrator is added with one tap when one is known."""
    return {"received_at": now_in_jakarta(), "victims": [new_victim_data()], "perpetrators": []}


ROW_ACTIONS = (
    "add_victim",
    "remove_victim",
    "add_perpetrator",
    "remove_perpetrator",
    "add_guardian",
    "remove_guardian",
    "add_consent",
    "remove_consent",
    "add_witness",
    "remove_witness",
)


def row_action(formdata: MultiDict[str, str]) -> tuple[str, str] | None:
    for name in ROW_ACTIONS:
        if name in formdata:
            return name, formdata.get(name, "")
    return None


def _indexes(value: str, count: int) -> list[int] | None:
    parts = value.split("-")
    if len(parts) != count or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def _renumber(pairs: list[tuple[str, str]], prefix: str, index: int) -> list[tuple[str, str]]:
    """Drop row ``index`` of the list whose entries are named ``<prefix>-<n>…`` (``prefix`` is
    a regular expression) and close the gap."""
    pattern = re.compile(rf"^({prefix})-(\d+)(-.*)?$")
    result = []
    for key, value in pairs:
        match = pattern.match(key)
        if match is None:
            result.append((key, value))
            continue
        n = int(match.group(2))
        if n == index:
            continue
        if n > index:
            key = f"{match.group(1)}-{n - 1}{match.group(3) or ''}"
        result.append((key, value))
    return result


def remove_row(formdata: MultiDict[str, str], action: str, value: str) -> MultiDict[str, str]:
    """The posted data without the row a ``remove_*`` button names, renumbered so that the
    remaining rows keep what was typed in them."""
    pairs = [(k, v) for k, v in formdata.items(multi=True) if k not in ROW_ACTIONS]
    if action == "remove_victim" and (ix := _indexes(value, 1)):
        pairs = _renumber(pairs, "victims", ix[0])
        pairs = _renumber(pairs, r"perpetrators-\d+-relationships", ix[0])
    elif action == "remove_perpetrator" and (ix := _indexes(value, 1)):
        pairs = _renumber(pairs, "perpetrators", ix[0])
        removed = ix[0] + 1  # guardians name perpetrators by position
        guardian = re.compile(r"^victims-\d+-guardians-\d+-perpetrator$")
        adjusted = []
        for key, v in pairs:
            if guardian.match(key) and v.isdigit():
                position = int(v)
                v = "" if position == removed else str(position - (position > removed))
            adjusted.append((key, v))
        pairs = adjusted
    elif action == "remove_guardian" and (ix := _indexes(value, 2)):
        pairs = _renumber(pairs, rf"victims-{ix[0]}-guardians", ix[1])
    elif action == "remove_consent" and (ix := _indexes(value, 2)):
        pairs = _renumber(pairs, rf"victims-{ix[0]}-consents", ix[1])
    elif action == "remove_witness" and (ix := _indexes(value, 1)):
        pairs = _renumber(pairs, "witnesses", ix[0])
    return MultiDict(pairs)


def add_row(form: IntakeForm, action: str, value: str) -> str | None:
    """Append a blank row for an ``add_*`` button; returns the name of the field to focus."""
    rows: Any = None
    data: Any = None
    focus = "name"
    if action == "add_victim":
        rows, data = form.victims, new_victim_data()
    elif action == "add_perpetrator":
        rows = form.perpetrators
    elif action == "add_witness":
        rows = form.witnesses
    elif (
        action in ("add_guardian", "add_consent")
        and (ix := _indexes(value, 1))
        and ix[0] < len(form.victims.entries)
    ):
        victim = form.victims.entries[ix[0]].form
        if action == "add_guardian":
            rows = victim.guardians
        else:
            rows, data, focus = victim.consents, new_consent_data(), "purpose"
    entry = None
    if rows is not None and len(rows.entries) < rows.max_entries:
        entry = rows.append_entry(data) if data is not None else rows.append_entry()
    form.sync_rows()
    return f"{entry.name}-{focus}" if entry is not None else None


# --- form → Intake ---------------------------------------------------------------------------


def jakarta_to_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=JAKARTA).astimezone(dt.UTC)


def _int_or_none(value: Any) -> int | None:
    text = str(value or "").strip()
    return parse_id(text)


def _position(value: Any) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    parsed = parse_id(text)
    return parsed if parsed is not None else -1  # an impossible position: "unknown perpetrator"


@dataclasses.dataclass
class Conversion:
    """The Intake built from the form, and where each of its rows came from on the form (blank
    rows are left out, so ``victims-1`` of the intake may be ``victims-2`` on the form)."""

    intake: Intake
    rows: dict[str, str]  # intake path of a row → form name of the row

    def form_path(self, path: str) -> str:
        for intake_prefix in sorted(self.rows, key=len, reverse=True):
            if path == intake_prefix or path.startswith(intake_prefix + "-"):
                return self.rows[intake_prefix] + path[len(intake_prefix) :]
        return path


def _blank_guardian(g: GuardianData) -> bool:
    return not (g.name or g.relation or g.phone or g.perpetrator_position is not None)


def _blank_consent(row: Any) -> bool:
    return not (row.decision.data or (row.given_by_name.data or "").strip())


def _blank_victim(v: VictimData) -> bool:
    return dataclasses.replace(v, id=None, link_person_id=None, new_person=False) == VictimData()


def form_to_intake(form: IntakeForm, *, draft: bool = False) -> Conversion:
    """The Intake the form describes. Blank guardian, consent and witness rows, blank
    perpetrators (not named by a guardian) and, in a draft, blank victims are left out."""
    rows: dict[str, str] = {}

    perpetrator_entries = list(form.perpetrators.entries)
    named_by_guardian = {
        _position(g.form.perpetrator.data)
        for v in form.victims.entries
        for g in v.form.guardians.entries
    }
    victims: list[VictimData] = []
    victim_entries: list[object | None] = []  # the form's rows, None for a row left out
    for entry in form.victims.entries:
        f = entry.form
        guardians, guardian_entries = [], []
        for g in f.guardians.entries:
            data = GuardianData(
                name=g.form.name.data or "",
                relation=g.form.relation.data or None,
                phone=g.form.phone.data or None,
                perpetrator_position=_position(g.form.perpetrator.data),
            )
            if not _blank_guardian(data):
                guardians.append(data)
                guardian_entries.append(g)
        consents, consent_entries = [], []
        for c in f.consents.entries:
            if _blank_consent(c.form):
                continue
            consents.append(
                ConsentData(
                    purpose=c.form.purpose.data or "",
                    decision=c.form.decision.data or "",
                    given_by=c.form.given_by.data or "",
                    at=jakarta_to_utc(c.form.at.data),  # type: ignore[arg-type]
                    given_by_name=c.form.given_by_name.data or None,
                )
            )
            consent_entries.append(c)
        victim = VictimData(
            id=_int_or_none(f.id.data),
            link_person_id=_int_or_none(f.link_person.data),
            new_person=(f.link_person.data or "") == "new",
            sex=f.sex.data or None,
            name=f.name.data or None,
            nik=f.nik.data or None,
            birth_date=f.birth_date.data,
            age=f.age.data,
            disability=bool(f.disability.data),
            disability_kind=f.disability_kind.data or None,
            pregnant=f.pregnant.data,
            education=f.education.data or None,
            occupation=f.occupation.data or None,
            marital_status=f.marital_status.data or None,
            religion=f.religion.data or None,
            nationality=f.nationality.data or Nationality.WNI.value,
            domicile_region_code=f.domicile_region_code.data or None,
            address=f.address.data or None,
            phone=f.phone.data or None,
            has_nik=f.has_nik.data,
            has_akta=f.has_akta.data,
            has_kia=f.has_kia.data,
            violence_types=list(f.violence_types.data or []),
            ampk_categories=list(f.ampk_categories.data or []),
            tppo_proses=list(f.tppo_proses.data or []),
            tppo_cara=list(f.tppo_cara.data or []),
            tppo_tujuan=list(f.tppo_tujuan.data or []),
            tppo_cross_border=f.tppo_cross_border.data,
            tppo_destination_country=f.tppo_destination_country.data or None,
            tppo_recruiter=f.tppo_recruiter.data or None,
            tppo_documents=f.tppo_documents.data or None,
            guardians=guardians,
            consents=consents,
        )
        if draft and _blank_victim(victim):
            victim_entries.append(None)
            continue
        k = len(victims)
        victims.append(victim)
        victim_entries.append(entry)
        rows[f"victims-{k}"] = entry.name
        for j, g in enumerate(guardian_entries):
            rows[f"victims-{k}-guardians-{j}"] = g.name
        for j, c in enumerate(consent_entries):
            rows[f"victims-{k}-consents-{j}"] = c.name
    # form victim index → intake position (1-based), for the relationships
    victim_position: dict[int, int] = {}
    for i, kept in enumerate(victim_entries):
        if kept is not None:
            victim_position[i] = len(victim_position) + 1

    perpetrators: list[PerpetratorData] = []
    perpetrator_position: dict[int, int] = {}  # form position (1-based) → intake position
    for i, entry in enumerate(perpetrator_entries):
        f = entry.form
        relationships = {}
        for r, rel in enumerate(f.relationships.entries):
            if rel.data and r in victim_position:
                relationships[victim_position[r]] = rel.data
        perpetrator = PerpetratorData(
            id=_int_or_none(f.id.data),
            name=f.name.data or None,
            sex=f.sex.data or None,
            age=f.age.data,
            notes=f.notes.data or None,
            relationships=relationships,
        )
        blank = dataclasses.replace(perpetrator, id=None) == PerpetratorData()
        if blank and (i + 1) not in named_by_guardian:
            continue
        rows[f"perpetrators-{len(perpetrators)}"] = entry.name
        perpetrators.append(perpetrator)
        perpetrator_position[i + 1] = len(perpetrators)
    for victim in victims:
        for g in victim.guardians:
            if g.perpetrator_position is not None and g.perpetrator_position > 0:
                # a position past the last row stays as it is: "unknown perpetrator"
                g.perpetrator_position = perpetrator_position.get(
                    g.perpetrator_position, g.perpetrator_position
                )

    witnesses: list[tuple[str, str | None]] = []
    for entry in form.witnesses.entries:
        name, phone = entry.form.name.data or "", entry.form.phone.data or None
        if name or phone:
            rows[f"witnesses-{len(witnesses)}"] = entry.name
            witnesses.append((name, phone))

    intake = Intake(
        received_at=jakarta_to_utc(form.received_at.data),
        channel=form.channel.data or None,
        case_types=list(form.case_types.data or []),
        risk=form.risk.data or None,
        kewenangan=form.kewenangan.data or Kewenangan.KABKOTA.value,
        reporter_kind=form.reporter_kind.data or ReporterKind.KORBAN.value,
        reporter_name=form.reporter_name.data or None,
        reporter_phone=form.reporter_phone.data or None,
        reporter_relation=form.reporter_relation.data or None,
        incident_date=form.incident_date.data,
        incident_date_precision=form.incident_date_precision.data or None,
        incident_region_code=form.incident_region_code.data or None,
        incident_place=form.incident_place.data or None,
        ranah=form.ranah.data or None,
        kronologi=form.kronologi.data or None,
        victims=victims,
        perpetrators=perpetrators,
        witnesses=witnesses,
    )
    return Conversion(intake=intake, rows=rows)


# --- problems → field errors ---------------------------------------------------------------


def _walk(field: Field) -> Iterator[Field]:
    yield field
    if isinstance(field, FormField):
        for sub in field.form:
            yield from _walk(sub)
    elif isinstance(field, FieldList):
        for entry in field.entries:
            yield from _walk(entry)


def all_fields(form: Form) -> Iterator[Field]:
    for field in form:
        yield from _walk(field)


def add_error(
    form: IntakeForm, name: str, message: Any, fields: dict[str, Field] | None = None
) -> None:
    """Show ``message`` on the field called ``name``, on its row or list, or above the form."""
    fields = fields if fields is not None else {f.name: f for f in all_fields(form)}
    field = fields.get(name)
    if isinstance(field, FormField) and f"{name}-perpetrator" in fields:
        field = fields[f"{name}-perpetrator"]  # a guardian naming a perpetrator that is not there
    if field is None:
        if message not in form.form_errors:
            form.form_errors.append(message)
    elif isinstance(field, (FieldList, FormField)):
        errors = form.container_errors.setdefault(name, [])
        if message not in errors:
            errors.append(message)
    elif message not in field.errors:
        field.errors = [*field.errors, message]


def attach_problems(form: IntakeForm, problems: list[Problem], conversion: Conversion) -> None:
    fields = {f.name: f for f in all_fields(form)}
    for problem in problems:
        add_error(form, conversion.form_path(problem.path), problem.message, fields)


_ROWS: dict[str, Any] = {
    "victims": lambda n: _l("Victim %(n)d", n=n),
    "relationships": lambda n: _l("Victim %(n)d", n=n),
    "perpetrators": lambda n: _l("Perpetrator %(n)d", n=n),
    "guardians": lambda n: _l("Guardian %(n)d", n=n),
    "consents": lambda n: _l("Consent decision %(n)d", n=n),
    "witnesses": lambda n: _l("Witness %(n)d", n=n),
}


def row_context(name: str) -> list[str]:
    """``victims-0-guardians-1-name`` → ["Victim 1", "Guardian 2"]."""
    parts = name.split("-")
    return [
        str(_ROWS[list_name](int(index) + 1))
        for list_name, index in itertools.pairwise(parts)
        if list_name in _ROWS and index.isdigit()
    ]


def error_summary(form: IntakeForm) -> list[tuple[str | None, str]]:
    """``(anchor, text)`` of every error on the page, for the list at its top."""
    items: list[tuple[str | None, str]] = [(None, str(m)) for m in form.form_errors]
    for f in all_fields(form):
        if f.type in ("CSRFTokenField", "HiddenField"):
            continue
        if isinstance(f, (FieldList, FormField)):
            messages = form.container_errors.get(f.name, [])
        else:
            messages = f.errors
        for message in messages:
            where = " · ".join([*row_context(f.name), str(f.label.text)])
            items.append((f.id, f"{where}: {message}"))
    return items


# --- case → form ------------------------------------------------------------------------------


def _jakarta(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(JAKARTA).replace(tzinfo=None) if value is not None else None


def case_to_intake_form_data(case: Case) -> dict[str, Any]:
    """What the intake form shows for an existing case. Consent decisions already recorded are
    not rows of the form: the ledger only grows, and the form adds to it."""
    positions = {v.id: i for i, v in enumerate(case.victims)}
    victims = []
    for v in case.victims:
        victims.append(
            {
                "id": str(v.id),
                # kept only while it names one of the matches the duplicate check finds
                "link_person": str(v.person_id) if v.person_id else "",
                "sex": v.sex.value,
                "name": v.name or "",
                "nik": v.nik or "",
                "birth_date": v.birth_date,
                # with a birth date the age is derived; showing both would go stale when the
                # incident date changes
                "age": v.age_at_incident if v.birth_date is None else None,
                "disability": v.disability,
                "disability_kind": v.disability_kind or "",
                "pregnant": v.pregnant,
                "education": v.education.value if v.education else "",
                "occupation": v.occupation or "",
                "marital_status": v.marital_status.value if v.marital_status else "",
                "religion": v.religion.value if v.religion else "",
                "nationality": v.nationality.value,
                "domicile_region_code": v.domicile_region.code if v.domicile_region else "",
                "address": v.address or "",
                "phone": v.phone or "",
                "has_nik": v.has_nik,
                "has_akta": v.has_akta,
                "has_kia": v.has_kia,
                "violence_types": [t.type.value for t in v.violence_types],
                "ampk_categories": [c.category.value for c in v.ampk_categories],
                "tppo_proses": list(v.tppo_proses or []),
                "tppo_cara": list(v.tppo_cara or []),
                "tppo_tujuan": list(v.tppo_tujuan or []),
                "tppo_cross_border": v.tppo_cross_border,
                "tppo_destination_country": v.tppo_destination_country or "",
                "tppo_recruiter": v.tppo_recruiter or "",
                "tppo_documents": v.tppo_documents or "",
                "guardians": [
                    {
                        "name": g.name,
                        "relation": g.relation or "",
                        "phone": g.phone or "",
                        "perpetrator": str(g.perpetrator.position) if g.perpetrator else "",
                    }
                    for g in v.guardians
                ],
                "consents": [],
            }
        )
    perpetrators = []
    for p in case.perpetrators:
        relationships = [""] * len(case.victims)
        for relation in p.relations:
            if relation.victim_id in positions:
                relationships[positions[relation.victim_id]] = relation.relationship_.value
        perpetrators.append(
            {
                "id": str(p.id),
                "name": p.name or "",
                "sex": p.sex.value if p.sex else "",
                "age": p.age,
                "notes": p.notes or "",
                "relationships": relationships,
            }
        )
    return {
        "version": str(case.version),
        "received_at": _jakarta(case.received_at),
        "channel": case.channel.value,
        "case_types": [t.value for t in case.case_types],
        "risk": case.risk.value if case.risk else None,
        "kewenangan": case.kewenangan.value,
        "reporter_kind": case.reporter_kind.value,
        "reporter_name": case.reporter_name or "",
        "reporter_phone": case.reporter_phone or "",
        "reporter_relation": case.reporter_relation or "",
        "incident_date": case.incident_date,
        "incident_date_precision": (
            case.incident_date_precision.value
            if case.incident_date_precision
            else IncidentDatePrecision.HARI.value
        ),
        "incident_region_code": case.incident_region.code if case.incident_region else "",
        "incident_place": case.incident_place.value if case.incident_place else "",
        "ranah": case.ranah.value if case.ranah else "",
        "kronologi": case.kronologi or "",
        "victims": victims or [new_victim_data()],
        "perpetrators": perpetrators,
        "witnesses": [{"name": w.name, "phone": w.phone or ""} for w in case.witnesses],
    }


# --- identity the user may not see (a data-subject restriction) --------------------------------

# What the case page masks of a victim whose identity the user may not see
# (``privacy.queries.may_see_identity``): the same fields are masked on the intake form.
MASKED_VICTIM_FIELDS = (
    "name",
    "nik",
    "birth_date",
    "age",
    "phone",
    "address",
    "domicile_region_code",
)
MASKED_CASE_FIELDS = ("reporter_name", "reporter_phone")
_ROW_ID = re.compile(r"^(victims|perpetrators)-(\d+)-id$")


def _posted(value: Any) -> str:
    """A stored value as the form posts it."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclasses.dataclass(frozen=True)
class Masking:
    """The identities of ``case`` the user may not see on its intake form, and how the form keeps
    them: ``hidden`` are the victims (by id) whose identity is restricted from the user — their
    name, NIK, birth date (and the age derived from it), phone, address and guardians are
    neither shown nor taken from the post. While any is hidden, the people around them — the
    reporter's name and phone, the witnesses, the recorded perpetrators' names — are kept the
    same way, as the case page shortens them. Whatever the post says in those places, the stored
    values are saved again: the form cannot reveal them, and cannot change them either."""

    case: Case | None = None
    hidden: frozenset[int] = frozenset()

    @property
    def people(self) -> bool:
        return bool(self.hidden)

    @property
    def _case(self) -> Case:
        """The case, asked for only while something is hidden (which needs a case)."""
        assert self.case is not None
        return self.case

    def _victims(self) -> dict[int, Victim]:
        if not self.hidden:
            return {}
        return {v.id: v for v in self._case.victims if v.id in self.hidden}

    def _rows(self, formdata: MultiDict[str, str], kind: str) -> dict[int, int]:
        """Row index → the stored id it names, for the rows of ``kind`` in the post."""
        rows = {}
        for key, value in formdata.items(multi=True):
            match = _ROW_ID.match(key)
            if match and match.group(1) == kind and (parsed := parse_id(value)) is not None:
                rows[int(match.group(2))] = parsed
        return rows

    def missing(self, formdata: MultiDict[str, str]) -> list[Victim]:
        """Hidden victims the post leaves out: only someone who sees them may remove them."""
        named = set(self._rows(formdata, "victims").values())
        return [v for vid, v in self._victims().items() if vid not in named]

    def keeps_row(self, formdata: MultiDict[str, str], action: str, value: str) -> bool:
        """Whether a remove button must be ignored: it names a hidden victim, one of its
        guardians, or a witness while the people around are masked."""
        if not self.hidden:
            return False
        if action == "remove_witness":
            return True
        if action in ("remove_victim", "remove_guardian"):
            index = value.split("-")[0]
            if index.isdecimal() and len(index) < 6:
                return self._rows(formdata, "victims").get(int(index)) in self.hidden
        return False

    def restore(self, formdata: MultiDict[str, str]) -> MultiDict[str, str]:
        """The post with the stored values in every masked place."""
        if not self.hidden:
            return formdata
        victims = self._victims()
        replace: dict[str, list[str]] = {}
        drop: list[str] = ["witnesses-"]
        for index, victim_id in self._rows(formdata, "victims").items():
            victim = victims.get(victim_id)
            if victim is None:
                continue
            prefix = f"victims-{index}-"
            stored = {
                "name": victim.name,
                "nik": victim.nik,
                "birth_date": victim.birth_date,
                "age": None if victim.birth_date else victim.age_at_incident,
                "phone": victim.phone,
                "address": victim.address,
                "domicile_region_code": (
                    victim.domicile_region.code if victim.domicile_region else None
                ),
            }
            for field in MASKED_VICTIM_FIELDS:
                replace[prefix + field] = [_posted(stored[field])]
            drop.append(prefix + "guardians-")
            for j, g in enumerate(victim.guardians):
                row = f"{prefix}guardians-{j}-"
                replace[row + "name"] = [g.name or ""]
                replace[row + "relation"] = [g.relation or ""]
                replace[row + "phone"] = [g.phone or ""]
                replace[row + "perpetrator"] = [
                    str(g.perpetrator.position) if g.perpetrator else ""
                ]
        replace["reporter_name"] = [_posted(self._case.reporter_name)]
        replace["reporter_phone"] = [_posted(self._case.reporter_phone)]
        for j, w in enumerate(self._case.witnesses):
            replace[f"witnesses-{j}-name"] = [w.name or ""]
            replace[f"witnesses-{j}-phone"] = [w.phone or ""]
        perpetrators = {p.id: p for p in self._case.perpetrators}
        for index, perpetrator_id in self._rows(formdata, "perpetrators").items():
            if perpetrator_id in perpetrators:
                replace[f"perpetrators-{index}-name"] = [_posted(perpetrators[perpetrator_id].name)]
        pairs = [
            (key, value)
            for key, value in formdata.items(multi=True)
            if key not in replace and not any(key.startswith(p) for p in drop)
        ]
        for key, values in replace.items():
            pairs += [(key, v) for v in values]
        return MultiDict(pairs)

    def names(self, form: IntakeForm) -> set[str]:
        """The fields of ``form`` that are masked (shown without their value)."""
        if not self.hidden:
            return set()
        names = set(MASKED_CASE_FIELDS)
        for entry in form.victims.entries:
            f = entry.form
            victim_id = parse_id(f.id.data)
            if victim_id in self.hidden:
                names |= {getattr(f, field).name for field in MASKED_VICTIM_FIELDS}
                for g in f.guardians.entries:
                    names |= {g.form.name.name, g.form.phone.name}
        for w in form.witnesses.entries:
            names |= {w.form.name.name, w.form.phone.name}
        stored = {p.id for p in self._case.perpetrators}
        for entry in form.perpetrators.entries:
            if parse_id(entry.form.id.data) in stored:
                names.add(entry.form.name.name)
        return names

    def hidden_rows(self, form: IntakeForm) -> set[str]:
        """The victim rows (by name, ``victims-0``) whose identity is hidden."""
        return {e.name for e in form.victims.entries if parse_id(e.form.id.data) in self.hidden}

    def blank(self, form: IntakeForm) -> set[str]:
        """Empty every masked field of ``form`` before it is shown; returns their names."""
        names = self.names(form)
        for field in all_fields(form):
            if field.name in names and not isinstance(field, (FieldList, FormField)):
                field.data = None
                field.raw_data = []
        return names
