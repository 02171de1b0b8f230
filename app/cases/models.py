"""The case record (domain.md §2): the case, its people, the consent ledger, notes and files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.files import download_name
from app.core.db import UTCDateTime, enum_type, utcnow
from app.core.db_roles import APP_ACCESS, AppAccess
from app.core.encryption import EncryptedDate, EncryptedText
from app.core.enums import (
    AmpkCategory,
    CaseState,
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
    VerificationStatus,
    ViolenceType,
)
from app.extensions import Model

if TYPE_CHECKING:
    from app.agencies.models import Agency
    from app.auth.models import User
    from app.regions.models import Region


class ConsentLike(Protocol):
    purpose: str
    decision: Any
    at: dt.datetime


C = TypeVar("C", bound=ConsentLike)

# A stored blind index: a key id of up to 40 characters, ":" and 64 hex digits.
INDEX_LENGTH = 105


def consent_in_force(entries: Iterable[C], purpose: str) -> C | None:
    """The ledger entry in force for ``purpose``: the latest decision (by its time; of two at the
    same time, the later in the ledger) wins. ``entries`` come in ledger order."""
    latest: C | None = None
    for entry in entries:
        if entry.purpose == purpose and (latest is None or entry.at >= latest.at):
            latest = entry
    return latest


class CaseCounter(Model):
    """The last case number used per agency and year; the row is locked while numbering."""

    __tablename__ = "case_counters"

    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Person(Model):
    """One human being across cases, linked by the intake duplicate check. Holds only the keyed
    hashes used for matching, never the identity itself."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    # blind indexes (app.core.crypto): "<key id>:<64 hex>"
    name_dob_index: Mapped[str | None] = mapped_column(sa.String(INDEX_LENGTH), index=True)
    nik_index: Mapped[str | None] = mapped_column(sa.String(INDEX_LENGTH), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "external_id"),
        sa.CheckConstraint(
            "(state = 'draft') = (reference IS NULL)", name="reference_unless_draft"
        ),
        sa.CheckConstraint(
            "(state IN ('terminasi', 'ditutup', 'dilimpahkan')) = (closed_at IS NOT NULL)",
            name="closed_iff_closed_at",
        ),
        sa.CheckConstraint("state = 'draft' OR risk IS NOT NULL", name="risk_unless_draft"),
        sa.Index("ix_cases_agency_state", "agency_id", "state"),
        # the indicators select a period's victims by their first registration
        sa.Index("ix_cases_first_received_at", "first_received_at"),
        # the case list walks an agency's cases newest first and pages by (received_at, id)
        sa.Index("ix_cases_agency_received_at_id", "agency_id", "received_at", "id"),
        # the cases an agency took over by transfer (its people may read the case they came
        # from; ``took_over`` asks whether one came from a given case): few rows, so a partial
        # index
        sa.Index(
            "ix_cases_agency_transferred_from",
            "agency_id",
            "transferred_from_id",
            postgresql_where=sa.text("transferred_from_id IS NOT NULL"),
            sqlite_where=sa.text("transferred_from_id IS NOT NULL"),
        ),
        # the search finds a reference by any part of it through its trigrams (PostgreSQL's
        # pg_trgm; SQLite reads the user's cases instead)
        sa.Index(
            "ix_cases_reference_trgm",
            "reference",
            postgresql_using="gin",
            postgresql_ops={"reference": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(sa.String(120))
    state: Mapped[CaseState] = mapped_column(enum_type(CaseState, "case_state"))
    workflow_key: Mapped[str] = mapped_column(sa.String(20), default="ktpa")
    workflow_version: Mapped[int] = mapped_column(default=1)

    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "channel"))
    registered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    case_manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )

    reporter_kind: Mapped[ReporterKind] = mapped_column(enum_type(ReporterKind, "reporter_kind"))
    reporter_name: Mapped[str | None] = mapped_column(EncryptedText("cases.reporter_name"))
    reporter_phone: Mapped[str | None] = mapped_column(EncryptedText("cases.reporter_phone"))
    reporter_relation: Mapped[str | None] = mapped_column(sa.String(100))

    incident_date: Mapped[dt.date | None]
    incident_date_precision: Mapped[IncidentDatePrecision | None] = mapped_column(
        enum_type(IncidentDatePrecision, "incident_date_precision")
    )
    incident_region_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )
    incident_place: Mapped[IncidentPlace | None] = mapped_column(
        enum_type(IncidentPlace, "incident_place")
    )
    ranah: Mapped[Ranah | None] = mapped_column(enum_type(Ranah, "ranah"))
    kronologi: Mapped[str | None] = mapped_column(EncryptedText("cases.kronologi"))

    # only a draft may lack a risk level (CHECK risk_unless_draft)
    risk: Mapped[Risk] = mapped_column(enum_type(Risk, "risk"), nullable=True)
    kewenangan: Mapped[Kewenangan] = mapped_column(enum_type(Kewenangan, "kewenangan"))
    verification: Mapped[VerificationStatus] = mapped_column(
        enum_type(VerificationStatus, "verification_status"),
        default=VerificationStatus.BELUM_DIVERIFIKASI,
    )
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    assessment_completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(EncryptedText("cases.closed_reason"))
    duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="RESTRICT")
    )
    # the case of another agency this one was transferred from (channel pelimpahan_masuk)
    transferred_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="RESTRICT")
    )
    # the first registration of the people of this case: its own, or for a case received by
    # transfer that of the case it came from (followed back to the first). The indicators count
    # a victim in that period and region, once (domain.md §6).
    first_received_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=lambda ctx: ctx.get_current_parameters()["received_at"]
    )
    first_agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"),
        default=lambda ctx: ctx.get_current_parameters()["agency_id"],
    )

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    agency: Mapped[Agency] = relationship(foreign_keys="Case.agency_id")
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])
    case_manager: Mapped[User | None] = relationship(foreign_keys=[case_manager_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    incident_region: Mapped[Region | None] = relationship()
    types: Mapped[list[CaseTypeEntry]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseTypeEntry.type"
    )
    victims: Mapped[list[Victim]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Victim.position"
    )
    perpetrators: Mapped[list[Perpetrator]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Perpetrator.position"
    )
    witnesses: Mapped[list[Witness]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Witness.id"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.reference or 'draft'}>"

    @property
    def case_types(self) -> list[CaseType]:
        return [t.type for t in self.types]


class CaseTypeEntry(Model):
    __tablename__ = "case_types"

    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[CaseType] = mapped_column(enum_type(CaseType, "case_type"), primary_key=True)

    case: Mapped[Case] = relationship(back_populates="types")


class VictimNameKey(Model):
    """One keyed hash of a word of a victim's name, as written or as it sounds
    (``app.core.crypto.name_keys``): what finds a victim by any part of the name, in any usual
    spelling, without the name. Written with the name (``operations``), rewritten when it
    changes, gone with the victim or the erasure of its identity; ``flask keys reindex``
    rewrites the rows of other keys. ``case_id`` is the victim's, so a search reads no victim."""

    __tablename__ = "victim_name_keys"
    __table_args__ = (
        sa.Index("ix_victim_name_keys_digest_case_victim", "digest", "case_id", "victim_id"),
    )

    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(sa.String(40))

    victim: Mapped[Victim] = relationship(back_populates="name_keys")
    case: Mapped[Case] = relationship()


class Victim(Model):
    __tablename__ = "victims"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "position"),
        sa.CheckConstraint(
            "age_at_incident IS NULL OR (age_at_incident >= 0 AND age_at_incident <= 120)",
            name="age_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("persons.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str | None] = mapped_column(EncryptedText("victims.name"))
    name_index: Mapped[str | None] = mapped_column(sa.String(INDEX_LENGTH), index=True)
    nik: Mapped[str | None] = mapped_column(EncryptedText("victims.nik"))
    nik_index: Mapped[str | None] = mapped_column(sa.String(INDEX_LENGTH), index=True)
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, "victim_sex"))
    # encrypted: with sex and region an exact birth date re-identifies nearly every victim of a
    # dump. Statistics, filters and sorting use the clear age at the incident (and is_child).
    birth_date: Mapped[dt.date | None] = mapped_column(EncryptedDate("victims.birth_date"))
    age_at_incident: Mapped[int | None]
    is_child: Mapped[bool]
    disability: Mapped[bool] = mapped_column(default=False)
    disability_kind: Mapped[str | None] = mapped_column(EncryptedText("victims.disability_kind"))
    pregnant: Mapped[bool | None]
    education: Mapped[Education | None] = mapped_column(enum_type(Education, "education"))
    occupation: Mapped[str | None] = mapped_column(sa.String(100))
    marital_status: Mapped[MaritalStatus | None] = mapped_column(
        enum_type(MaritalStatus, "marital_status")
    )
    religion: Mapped[Religion | None] = mapped_column(enum_type(Religion, "religion"))
    nationality: Mapped[Nationality] = mapped_column(
        enum_type(Nationality, "nationality"), default=Nationality.WNI
    )
    domicile_region_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT")
    )
    address: Mapped[str | None] = mapped_column(EncryptedText("victims.address"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("victims.phone"))
    has_nik: Mapped[bool | None]
    has_akta: Mapped[bool | None]
    has_kia: Mapped[bool | None]
    # TPPO screening (domain §2.2): lists of vocabulary values, checked by the operations.
    tppo_proses: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    tppo_cara: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    tppo_tujuan: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    tppo_cross_border: Mapped[bool | None]
    tppo_destination_country: Mapped[str | None] = mapped_column(sa.String(100))
    tppo_recruiter: Mapped[str | None] = mapped_column(EncryptedText("victims.tppo_recruiter"))
    tppo_documents: Mapped[str | None] = mapped_column(EncryptedText("victims.tppo_documents"))

    case: Mapped[Case] = relationship(back_populates="victims")
    person: Mapped[Person | None] = relationship()
    domicile_region: Mapped[Region | None] = relationship()
    violence_types: Mapped[list[VictimViolenceType]] = relationship(
        back_populates="victim", cascade="all, delete-orphan", order_by="VictimViolenceType.type"
    )
    ampk_categories: Mapped[list[VictimAmpkCategory]] = relationship(
        back_populates="victim",
        cascade="all, delete-orphan",
        order_by="VictimAmpkCategory.category",
    )
    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="victim", cascade="all, delete-orphan", order_by="Guardian.id"
    )
    consents: Mapped[list[ConsentEntry]] = relationship(
        back_populates="victim", order_by="ConsentEntry.id", viewonly=True
    )
    name_keys: Mapped[list[VictimNameKey]] = relationship(
        back_populates="victim", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def label(self) -> str:
        return f"K{self.position}"

    @property
    def initials(self) -> str:
        if not self.name:
            return "—"
        return "".join(part[0].upper() + "." for part in self.name.split() if part[:1].isalpha())

    def consent_for(self, purpose: str) -> ConsentEntry | None:
        """The entry in force for ``purpose``: the latest decision by its time wins (of two at
        the same time, the later in the ledger) — the same rule as
        ``app.services.operations.consent_in_force``."""
        return consent_in_force(self.consents, purpose)


class VictimViolenceType(Model):
    __tablename__ = "victim_violence_types"

    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[ViolenceType] = mapped_column(
        enum_type(ViolenceType, "violence_type"), primary_key=True
    )

    victim: Mapped[Victim] = relationship(back_populates="violence_types")


class VictimAmpkCategory(Model):
    __tablename__ = "victim_ampk_categories"

    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[AmpkCategory] = mapped_column(
        enum_type(AmpkCategory, "ampk_category"), primary_key=True
    )

    victim: Mapped[Victim] = relationship(back_populates="ampk_categories")


class Perpetrator(Model):
    __tablename__ = "perpetrators"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "position"),
        sa.CheckConstraint("age IS NULL OR (age >= 0 AND age <= 120)", name="age_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str | None] = mapped_column(EncryptedText("perpetrators.name"))
    sex: Mapped[Sex | None] = mapped_column(enum_type(Sex, "perpetrator_sex"))
    age: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(EncryptedText("perpetrators.notes"))

    case: Mapped[Case] = relationship(back_populates="perpetrators")
    relations: Mapped[list[PerpetratorRelation]] = relationship(
        back_populates="perpetrator", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return f"P{self.position}"

    @property
    def is_child(self) -> bool:
        """Under 18: an *anak berhadapan dengan hukum* (affects mediation and diversion)."""
        return self.age is not None and self.age < 18


class PerpetratorRelation(Model):
    """How a perpetrator is related to one victim of the case."""

    __tablename__ = "perpetrator_relations"

    perpetrator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("perpetrators.id", ondelete="CASCADE"), primary_key=True
    )
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relationship_: Mapped[Relationship] = mapped_column(
        "relationship", enum_type(Relationship, "relationship")
    )

    perpetrator: Mapped[Perpetrator] = relationship(back_populates="relations")
    victim: Mapped[Victim] = relationship()


class Guardian(Model):
    """Wali/keluarga of a (child) victim."""

    __tablename__ = "guardians"

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(EncryptedText("guardians.name"))
    relation: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(EncryptedText("guardians.phone"))
    perpetrator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("perpetrators.id", ondelete="SET NULL")
    )

    victim: Mapped[Victim] = relationship(back_populates="guardians")
    perpetrator: Mapped[Perpetrator | None] = relationship()


class Witness(Model):
    __tablename__ = "witnesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText("witnesses.name"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("witnesses.phone"))
    notes: Mapped[str | None] = mapped_column(EncryptedText("witnesses.notes"))

    case: Mapped[Case] = relationship(back_populates="witnesses")


class ConsentEntry(Model):
    """One entry of a victim's consent ledger. Entries are only added, never edited: the latest
    entry for a purpose is the one in force; a withdrawal is a new entry.

    The database holds to it (migration 21bb479f935a): an entry is never changed or removed,
    except that erasing the victim's identity (once the erasure is recorded) empties
    ``given_by_name`` and ``note``, and the entries of a victim taken off a draft that was never
    registered go with the victim."""

    __tablename__ = "consent_entries"
    __table_args__ = (
        {"info": {APP_ACCESS: AppAccess(update=("given_by_name", "note"), delete=True)}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("victims.id", ondelete="RESTRICT"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(80))
    decision: Mapped[ConsentDecision] = mapped_column(
        enum_type(ConsentDecision, "consent_decision")
    )
    given_by: Mapped[ConsentGiver] = mapped_column(enum_type(ConsentGiver, "consent_giver"))
    given_by_name: Mapped[str | None] = mapped_column(
        EncryptedText("consent_entries.given_by_name")
    )
    guardian_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("guardians.id", ondelete="RESTRICT")
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    withdraws_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("consent_entries.id", ondelete="RESTRICT")
    )
    note: Mapped[str | None] = mapped_column(EncryptedText("consent_entries.note"))

    victim: Mapped[Victim] = relationship(back_populates="consents")
    recorded_by: Mapped[User | None] = relationship()


class CaseNote(Model):
    """Append-only notes; a correction is a new note that references the one it corrects."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(EncryptedText("case_notes.body"))
    corrects_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("case_notes.id", ondelete="RESTRICT")
    )

    author: Mapped[User | None] = relationship()
    corrects: Mapped[CaseNote | None] = relationship(remote_side="CaseNote.id")


class Attachment(Model):
    """A file kept outside the web root under a random name, encrypted with a data key of its
    own (``data_key``, itself encrypted under ``DATA_ENCRYPTION_KEYS``; NULL for a file stored
    before encryption), served only after a permission check."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    original_name: Mapped[str] = mapped_column(EncryptedText("attachments.original_name"))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(EncryptedText("attachments.description"))
    # the file's data key (base64), wrapped by the column's encryption: re-wrapped by
    # `flask keys rotate` without touching the file (app/cases/storage.py)
    data_key: Mapped[str | None] = mapped_column(EncryptedText("attachments.data_key"))

    uploaded_by: Mapped[User | None] = relationship()

    @property
    def download_name(self) -> str:
        """The uploader's name with the extension of the recognised type, never their own."""
        return download_name(self.original_name, self.content_type)


def victim_summary(victim: Victim) -> dict[str, Any]:
    """A victim without identity: what pseudonymised views may show."""
    return {
        "label": victim.label,
        "sex": victim.sex.value,
        "is_child": victim.is_child,
        "age": victim.age_at_incident,
    }


class BreakGlassGrant(Model):
    """Read-only access of one user to one case until ``expires_at``, granted by break-the-glass
    (``app.breakglass``, which writes the rows; the case scope reads them). Rows are never changed —
    but for the reason, emptied when the identity of a victim of the case is erased: an expired
    grant stays as the record of the access (the audit log holds its id)."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (
        sa.Index("ix_break_glass_grants_user_expires", "user_id", "expires_at"),
        sa.Index("ix_break_glass_grants_case", "case_id"),
        sa.Index("ix_break_glass_grants_granted_at", "granted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(EncryptedText("break_glass_grants.reason"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    user: Mapped[User] = relationship(lazy="joined")
    case: Mapped[Case] = relationship(lazy="joined")
