"""``flask demo generate --cases N --seed S``: a national history for benchmarks, written in bulk.

The operations write one case in tens of milliseconds; a million cases through them would take
days. This module writes the same rows straight into PostgreSQL with ``COPY … FROM STDIN``
(psycopg 3), in chunks, in one transaction, with ids assigned here from the tables' empty
sequences (set past the last id at the end). What a row holds is what the application stores:

- the shape of a historical case is that of ``flask cases import`` (``app.intake.importing``):
  a ``register`` transition of kind ``import`` to ``diterima``, one ``import`` transition per
  service track from nothing to its state, one from ``diterima`` to the case's state, and the
  audit entries ``case.register``, ``track.create`` (one per track) and ``case.import``;
- personal data and narratives are encrypted with the application's keys
  (``app.core.encryption.encrypt_value``, the column's ``table.column`` as associated data) and
  searchable through its blind indexes (``app.core.crypto``); the people are invented;
- the audit entries are sealed in insertion order onto the chain's tail with the sealing
  functions of ``app.audit.operations``, so ``flask audit verify`` passes;
- referrals (every referral state) with their events, consent to each referral, deadlines
  (first response, police report for TPKS, referral response) met, missed, open or cancelled,
  transfers (pelimpahan) accepted with the receiving agency's own case, pending and declined,
  and case notes.

Everything is drawn from ``random.Random(seed)``: one seed, the same cases, references and
counts (ciphertexts differ: every encryption takes a fresh nonce). Every timestamp lies before
``ANCHOR``. Referral steps add no rows to the track's history: as in an import, the track's one
``import`` row says how it got to its state, and the referral's own events tell its story.

Speed: a COPY of one chunk runs in a thread of its own while the next chunk is generated, so
PostgreSQL and Python work at the same time on the two cores. Row by row, the database's
foreign-key checks (one look-up per key per row) cost more than the rest of its work; run by a
superuser, the transaction switches them off (``session_replication_role = replica``, which
fires no trigger; the tables' triggers refuse only updates and deletes) and checks every foreign
key of the tables written once, as one anti-join per constraint, before the commit: a broken
reference fails the whole run. Anyone else writes with the row checks, more slowly. CHECK and
UNIQUE constraints are checked row by row either way; nothing of the schema is dropped.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import queue
import random
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from app.audit.operations import CHAIN_LOCK_KEY, compute_entry_hash, compute_hmac
from app.auth.passwords import hash_password
from app.core.crypto import name_dob_index, name_index, name_keys, nik_index
from app.core.encryption import KeyRing, encrypt_value, keyring
from app.core.enums import ServiceType as S
from app.core.errors import DomainError
from app.deadlines.calendar import add_working_days
from app.demo.cases import ANCHOR, DURATION, FAMILY, MEN, WOMEN
from app.demo.data import DEMO_PASSWORD
from app.demo.national import (
    SUBGT_MEMBERS,
    Country,
    KabKota,
    Zipf,
    build_country,
    population_rows,
)
from app.extensions import db

JAKARTA = ZoneInfo("Asia/Jakarta")
LIMIT = ANCHOR.astimezone(dt.UTC) - dt.timedelta(minutes=30)
ACTOR_LABEL = "demo"
CHUNK = 2000
# The share of all cases the biggest case-owning agency holds (Zipf over kabupaten/kota).
TOP_SHARE = 0.022
# Of a kabupaten/kota's cases, the share the province's UPTD PPA takes (TPPO: more).
PROVINCE_SHARE = 0.06

# Of the ended tracks an agency other than the owner provided, the share with their referral.
REFERRED_ENDED = 0.5
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# case states, their share of all cases and how long before ANCHOR such a case was received
# (days, from, to): open cases are recent, closed ones spread over the whole period.
STATES: list[tuple[str, float, tuple[float, float | None]]] = [
    ("diterima", 0.004, (0.05, 20)),
    ("identifikasi", 0.005, (0.3, 30)),
    ("kedaruratan", 0.003, (0.2, 20)),
    ("asesmen", 0.02, (2, 90)),
    ("rencana_intervensi", 0.02, (8, 120)),
    ("intervensi", 0.12, (20, 720)),
    ("pemantauan", 0.07, (60, 900)),
    ("terminasi", 0.56, (45, None)),  # None: the whole period
    ("ditutup", 0.14, (5, None)),
    ("dilimpahkan", 0.058, (2, None)),
]
CLOSED = {"terminasi", "ditutup", "dilimpahkan"}
ENDED = {"selesai", "ditolak_korban", "tidak_tersedia", "dibatalkan"}

# Services the owning agency gives itself when it can.
OWN_SERVICES = {S.PENGADUAN, S.KEDARURATAN, S.MEDIASI, S.PENJANGKAUAN}
FIRST_RESPONSE_HOURS = {"tinggi": 1, "sedang": 6, "rendah": 24}
COUNTRIES = [("Malaysia", 5), ("Arab Saudi", 2), ("Kamboja", 2), ("Taiwan", 1), ("Hong Kong", 1)]
STRANGERS = ["pacar_teman", "tetangga", "guru", "orang_tidak_dikenal", "rekan_kerja"]
STREETS = ["Melati", "Kenanga", "Flamboyan", "Cempaka", "Anggrek", "Dahlia", "Teratai", "Mawar"]
CLOSING_REASONS = [
    "Korban mencabut pengaduan dan tidak bersedia melanjutkan layanan.",
    "Korban tidak dapat dihubungi setelah tiga kali penjangkauan.",
    "Korban pindah domisili ke luar provinsi; informasi layanan setempat sudah diberikan.",
    "Pengaduan ganda: korban sudah ditangani dalam kasus lain.",
]
KRONOLOGI = {
    "ktp": "Korban melaporkan kekerasan berulang oleh orang terdekatnya.",
    "kta": "Pelapor menyampaikan dugaan kekerasan terhadap anak di lingkungannya.",
    "ampk": "Anak memerlukan perlindungan khusus; keluarga meminta pendampingan.",
    "tppo": "Korban direkrut dengan janji pekerjaan lalu dieksploitasi dan tidak digaji.",
}
NOTES = [
    "Kunjungan rumah dilakukan; korban dalam keadaan aman.",
    "Koordinasi dengan penyedia layanan: jadwal layanan disepakati.",
    "Korban hadir pada sesi konseling sesuai jadwal.",
    "Keluarga korban diberi informasi tentang proses hukum.",
    "Pemantauan lanjutan dijadwalkan bulan depan.",
]
MESSAGES = {
    S.REHABILITASI_KESEHATAN: "Mohon pemeriksaan kesehatan dan visum et repertum.",
    S.PENEGAKAN_HUKUM: "Korban bersedia melapor; mohon penerimaan laporan dan BAP korban.",
    S.BANTUAN_HUKUM: "Mohon pendampingan hukum bagi korban.",
    S.PENAMPUNGAN_SEMENTARA: "Korban memerlukan tempat aman sementara.",
    S.PEMULANGAN: "Mohon fasilitasi pemulangan korban ke daerah asal.",
}
DEFAULT_MESSAGE = "Mohon layanan bagi korban sesuai rencana intervensi."
DECLINES = [
    "Kapasitas layanan penuh pada periode ini; mohon dirujuk ke penyedia lain.",
    "Tenaga ahli yang dibutuhkan tidak tersedia; mohon dirujuk ke penyedia lain.",
]
WITHDRAWALS = ["Korban memilih penyedia layanan lain.", "Layanan tidak lagi dibutuhkan korban."]
OUTCOMES = [
    "Layanan selesai diberikan; laporan hasil disampaikan kepada manajer kasus.",
    "Korban menyelesaikan seluruh sesi layanan.",
]
REFERRAL_NOTES = [
    "Korban sudah hadir; layanan berjalan sesuai jadwal.",
    "Jadwal lanjutan disepakati bersama korban.",
]
TRANSFER_REASON = "Penanganan lanjutan menjadi kewenangan lembaga penerima sesuai domisili korban."
DECLINE_TRANSFER = "Korban masih berdomisili di wilayah pengirim; penanganan tetap di sana."

# (table, columns) in the order they are written: a row's foreign keys point at tables before it
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("regions", ("id", "code", "name", "level", "parent_id", "created_at", "updated_at",
                 "version")),
    ("population", ("region_id", "year", "sex", "age_from", "age_to", "count", "updated_at")),
    ("agencies", ("id", "code", "name", "type", "region_id", "active", "created_at", "updated_at",
                  "version")),
    ("agency_services", ("agency_id", "service_type")),
    ("task_forces", ("id", "region_id", "name", "created_at")),
    ("sub_task_forces", ("id", "task_force_id", "key")),
    ("sub_task_force_members", ("sub_task_force_id", "agency_id")),
    ("users", ("id", "email", "name", "password_hash", "active", "locale", "session_generation",
               "created_at", "updated_at", "password_changed_at", "version")),
    ("role_grants", ("user_id", "role", "agency_id", "sub_task_force_id", "created_at")),
    ("cases", ("id", "reference", "agency_id", "external_id", "state", "workflow_key",
               "workflow_version", "received_at", "channel", "case_manager_id", "reporter_kind",
               "reporter_name", "reporter_relation", "incident_date", "incident_date_precision",
               "incident_region_id", "incident_place", "ranah", "kronologi", "risk", "kewenangan",
               "verification", "assessment_completed_at", "closed_at", "closed_reason",
               "created_at", "updated_at", "version", "transferred_from_id", "first_received_at",
               "first_agency_id")),
    ("case_types", ("case_id", "type")),
    ("persons", ("id", "agency_id", "name_dob_index", "nik_index", "created_at")),
    ("victims", ("id", "case_id", "position", "person_id", "name", "name_index", "nik",
                 "nik_index", "sex", "birth_date", "age_at_incident", "is_child", "disability",
                 "disability_kind", "pregnant", "education", "occupation", "marital_status",
                 "nationality", "domicile_region_id", "address", "phone", "has_nik", "has_akta",
                 "has_kia", "tppo_proses", "tppo_cara", "tppo_tujuan", "tppo_cross_border",
                 "tppo_destination_country")),
    ("victim_name_keys", ("victim_id", "digest", "case_id", "key_id")),
    ("victim_violence_types", ("victim_id", "type")),
    ("victim_ampk_categories", ("victim_id", "category")),
    ("perpetrators", ("id", "case_id", "position", "name", "sex", "age")),
    ("perpetrator_relations", ("perpetrator_id", "victim_id", "relationship")),
    ("guardians", ("id", "victim_id", "name", "relation", "perpetrator_id")),
    ("service_tracks", ("id", "case_id", "victim_id", "service_type", "provider_id", "state",
                        "started_at", "ended_at", "end_reason", "created_at", "updated_at",
                        "version", "workflow_version", "planned_at")),
    ("consent_entries", ("id", "victim_id", "purpose", "decision", "given_by", "given_by_name",
                         "at", "recorded_at")),
    ("referrals", ("id", "case_id", "track_id", "from_agency_id", "to_agency_id", "state",
                   "message", "share_identity", "share_incident", "share_assessment",
                   "consent_entry_id", "created_by_id", "created_at", "sent_at",
                   "first_opened_at", "accepted_at", "started_at", "ended_at", "decline_reason",
                   "outcome", "withdraw_reason", "version")),
    ("referral_events", ("id", "referral_id", "at", "actor_id", "agency_id", "kind", "from_state",
                         "to_state", "text", "data")),
    ("case_transitions", ("id", "case_id", "track_id", "at", "actor_id", "actor_label", "kind",
                          "event", "from_state", "to_state", "reason", "data")),
    ("case_transfers", ("id", "case_id", "from_agency_id", "to_agency_id", "state", "reason",
                        "requested_by_id", "requested_at", "decided_by_id", "decided_at",
                        "decision_reason", "new_case_id", "version")),
    ("deadlines", ("id", "code", "case_id", "track_id", "started_at", "due_at",
                   "responsible_user_id", "responsible_agency_id", "created_at", "completed_at",
                   "met_at", "missed_at", "notified_at", "escalated_at", "cancelled_at")),
    ("case_notes", ("id", "case_id", "author_id", "at", "body")),
    ("audit_entries", ("id", "at", "actor_id", "actor_label", "action", "object_type",
                       "object_id", "changes", "remote_addr", "prev_hash", "entry_hash", "hmac")),
    ("case_counters", ("agency_id", "year", "last_number")),
]  # fmt: skip
COLUMNS = dict(TABLES)
# Tables whose rows have an id of their own here (assigned from max(id) + 1).
WITH_IDS = [
    name for name, columns in TABLES if columns[0] == "id" and name not in ("audit_entries",)
]
# The tables that must be empty: generating onto existing data would mix two histories.
MUST_BE_EMPTY = ["cases", "regions", "agencies", "users"]

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _other(value: Any) -> str:
    """A COPY text cell of a value that is neither None nor a string."""
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


# The text of the times written in the current chunk (a case's times recur in several rows);
# emptied by each flush.
_ISO: dict[dt.datetime, str] = {}


def _iso(value: dt.datetime) -> str:
    text = _ISO.get(value)
    if text is None:
        text = _ISO[value] = value.isoformat()
    return text


def _isonull(value: dt.datetime | None) -> str:
    return NULL if value is None else _iso(value)


def _line(values: tuple[Any, ...]) -> str:
    cells = [
        NULL
        if v is None
        else v
        if (kind := v.__class__) is str
        else str(v)
        if kind is int
        else _iso(v)
        if kind is dt.datetime
        else _other(v)
        for v in values
    ]
    line = "\t".join(cells)
    if "\n" in line or "\r" in line or line.count("\\") != cells.count(NULL):
        line = "\t".join(
            c.translate(_ESCAPES) if isinstance(v, str) else c
            for v, c in zip(values, cells, strict=True)
        )
    return line + "\n"


def _json_text(value: str | None) -> str:
    """A JSON string or null, for the codes and names this module makes (letters, digits,
    dashes: nothing JSON escapes)."""
    return "null" if value is None else f'"{value}"'


def _jsonb(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@functools.cache
def _aesgcm(key: bytes) -> AESGCM:
    return AESGCM(key)


class CachedRing(KeyRing):
    """The configured keys, each cipher built once (``KeyRing.cipher`` builds one per value)."""

    def cipher(self, key_id: str) -> AESGCM:
        for candidate, key in self.keys:
            if candidate == key_id:
                return _aesgcm(key)
        return super().cipher(key_id)


class GenerateRefused(DomainError):
    """The database is not one to generate into."""


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    database_cpu_seconds: float | None = None  # the database backend's, when on this machine
    supervisor: str = ""
    biggest_agency: str = ""
    biggest_cases: int = 0


class Writer:
    """Rows by table for the chunk being built. ``flush`` hands them to a thread of their own
    that sends them with one COPY per table while the next chunk is generated: the database
    works on one chunk while Python builds the next (psycopg releases the GIL while it waits).
    At most ``QUEUED`` chunks wait, so memory stays bounded. ``close`` waits for the last."""

    QUEUED = 2

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.rows: dict[str, list[str]] = {name: [] for name, _ in TABLES}
        self.counts: dict[str, int] = dict.fromkeys(self.rows, 0)
        self.queue: queue.Queue[list[tuple[str, list[str]]] | None] = queue.Queue(self.QUEUED)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._send, name="demo-generate-copy", daemon=True)
        self.thread.start()

    def add(self, table: str, *values: Any) -> None:
        self.rows[table].append(_line(values))

    def flush(self) -> None:
        self._raise()
        _ISO.clear()
        batch = []
        for table, _columns in TABLES:
            lines = self.rows[table]
            if lines:
                batch.append((table, lines[:]))
                self.counts[table] += len(lines)
                lines.clear()  # in place: the generator holds some of these lists
        self.queue.put(batch)

    def close(self) -> None:
        self.flush()
        self.queue.put(None)
        self.thread.join()
        self._raise()

    def abort(self) -> None:
        """Stop the thread, dropping what was not sent (the caller rolls back)."""
        if self.thread.is_alive():
            self.error = self.error or RuntimeError("aborted")
            self.queue.put(None)
            self.thread.join()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _send(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is not None:
                continue  # the transaction is lost: drain the queue so the generator stops
            try:
                for table, lines in batch:
                    statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"
                    with self.cursor.copy(statement) as copy:
                        for start in range(0, len(lines), 5000):
                            copy.write("".join(lines[start : start + 5000]))
            except BaseException as exc:  # handed to the generator's thread, raised there
                self.error = exc


class Sealer:
    """Audit entries sealed as ``app.audit.operations`` seals them: in insertion order, each
    onto the hash of the one before."""

    def __init__(self, writer: Writer, first_id: int, tail: str, key: str) -> None:
        self.writer = writer
        self.next_id = first_id
        self.prev_hash = tail
        self.key = key
        self.lines = writer.rows["audit_entries"]
        self.at = dt.datetime.now(dt.UTC)
        self.at_text = self.at.isoformat()

    def now(self) -> None:
        """Entries written from here on are dated now."""
        self.at = dt.datetime.now(dt.UTC)
        self.at_text = self.at.isoformat()

    def record(
        self, action: str, object_id: int, changes: dict[str, Any], changes_text: str
    ) -> None:
        """Seal and write an entry; ``changes_text`` is ``changes`` as JSON (the column's text:
        the seal covers the parsed document, so only its content matters)."""
        entry = {
            "at": self.at,
            "actor_id": None,
            "actor_label": ACTOR_LABEL,
            "action": action,
            "object_type": "case",
            "object_id": str(object_id),
            "changes": changes,
            "remote_addr": None,
        }
        entry_hash = compute_entry_hash(entry, self.prev_hash)
        self.lines.append(
            f"{self.next_id}\t{self.at_text}\t{NULL}\t{ACTOR_LABEL}\t{action}\tcase\t"
            f"{object_id}\t{changes_text}\t{NULL}\t{self.prev_hash}\t{entry_hash}\t"
            f"{compute_hmac(entry_hash, self.key)}\n"
        )
        self.prev_hash = entry_hash
        self.next_id += 1


@dataclass
class Staff:
    """The accounts of a case-owning agency."""

    supervisor: int | None = None
    managers: list[int] = field(default_factory=list)


@dataclass
class Person:
    sex: str
    age: int
    name: str
    birth_date: dt.date | None
    nik: str | None
    violence: list[str]
    guardian: str | None
    row_id: int = 0  # the victim row


@dataclass
class Moved:
    """A case transferred out: what the receiving agency's case copies."""

    case_id: int
    people: list[Person]
    kind: str
    risk: str
    target: int
    decided: dt.datetime


@dataclass
class Track:
    victim: int  # index into the case's victims
    service: S
    state: str
    provider: int | None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    end_reason: str | None = None
    id: int = 0


class History:
    """Generates the cases, chronologically, and writes their rows."""

    def __init__(
        self,
        country: Country,
        staff: dict[int, Staff],
        writer: Writer,
        sealer: Sealer,
        ids: dict[str, int],
        rng: random.Random,
        seed: int,
    ) -> None:
        self.country = country
        self.staff = staff
        self.w = writer
        self.sealer = sealer
        self.ids = ids
        self.rng = rng
        self.seed = seed
        self.ring: KeyRing = CachedRing(keyring().keys)
        # the rows of the most frequent tables are written as COPY lines directly
        self.transitions = writer.rows["case_transitions"]
        self.consent_lines = writer.rows["consent_entries"]
        self.track_lines = writer.rows["service_tracks"]
        self.event_lines = writer.rows["referral_events"]
        self.deadline_lines = writer.rows["deadlines"]
        self.working_days: dict[dt.date, dt.datetime] = {}
        self.name_indexes: dict[str, str] = {}
        self.name_key_sets: dict[str, tuple[str, set[str]]] = {}
        self.counters: dict[tuple[int, int], int] = {}
        self.per_agency: dict[int, int] = {}
        self.number = 0
        self.states_seen: dict[str, int] = {}

    # --- small helpers
    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def enc(self, text: str | None, context: str) -> str | None:
        return None if text is None else encrypt_value(text, context, self.ring)

    def name_index(self, name: str) -> str:
        """The blind index of a name (names repeat: each computed once)."""
        found = self.name_indexes.get(name)
        if found is None:
            found = self.name_indexes[name] = name_index(name)
        return found

    def name_keys(self, name: str) -> tuple[str, set[str]]:
        """The name keys of a name (``app.core.crypto.name_keys``), each name computed once."""
        found = self.name_key_sets.get(name)
        if found is None:
            found = self.name_key_sets[name] = name_keys(name)
        return found

    def name(self, sex: str) -> str:
        given = self.rng.choice(WOMEN if sex == "P" else MEN)
        return f"{given} {self.rng.choice(FAMILY)}"

    def reference(self, agency_id: int, received: dt.datetime) -> str:
        year = received.astimezone(JAKARTA).year
        number = self.counters.get((agency_id, year), 0) + 1
        self.counters[(agency_id, year)] = number
        self.per_agency[agency_id] = self.per_agency.get(agency_id, 0) + 1
        return f"{self.country.by_id[agency_id].code}-{year}-{number:05d}"

    def provider(self, kab: KabKota, owner: int, service: S) -> int | None:
        rng = self.rng
        if service in OWN_SERVICES and service in self.country.by_id[owner].services:
            return owner
        choices = kab.providers.get(service)
        if not choices:
            return None
        if owner in choices and rng.random() < 0.4:
            return owner
        return rng.choice(choices)

    def manager(self, agency_id: int) -> int | None:
        staff = self.staff.get(agency_id)
        if staff is None or not staff.managers:
            return None
        if self.rng.random() < 0.15 and staff.supervisor is not None:
            return staff.supervisor
        return self.rng.choice(staff.managers)

    def transition(
        self,
        case_id: int,
        track_id: int | None,
        at: dt.datetime,
        event: str,
        source: str | None,
        target: str,
        data_text: str,
        reason: str | None = None,
    ) -> None:
        """A history row of kind ``import``; ``data_text`` is its data as the application's
        EncryptedJSON writes it (sorted keys, no spaces)."""
        self.transitions.append(
            f"{self.next_id('case_transitions')}\t{case_id}\t"
            f"{NULL if track_id is None else track_id}\t{_iso(at)}\t{NULL}\t"
            f"{ACTOR_LABEL}\timport\t{event}\t{source or NULL}\t{target}\t"
            f"{NULL if reason is None else self.enc(reason, 'case_transitions.reason')}\t"
            f"{encrypt_value(data_text, 'case_transitions.data', self.ring)}\n"
        )

    # --- planning the whole run
    def plan(self, n: int, years: int) -> Iterator[tuple[dt.datetime, str]]:
        """(received, state) of every original case, oldest first. Kept as integers (seconds
        times 16 plus state) so a million cases take a few megabytes."""
        rng = self.rng
        span_days = years * 365.25
        weights = [share for _s, share, _r in STATES]
        keys: list[int] = []
        anchor = int(LIMIT.timestamp())
        picks = rng.choices(range(len(STATES)), weights, k=n)
        for index in picks:
            least, most = STATES[index][2]
            most_days = span_days if most is None else min(most, span_days)
            if most is None:  # closed cases grow with the years: more reports every year
                days = least + (most_days - least) * (1 - rng.random() ** 1.3)
            else:
                days = rng.uniform(least, most_days)
            received = anchor - int(days * 86400)
            received -= received % 60
            keys.append(received * 16 + index)
        keys.sort()
        for key in keys:
            yield (
                dt.datetime.fromtimestamp(key // 16, dt.UTC),
                STATES[key % 16][0],
            )

    # --- one case
    def case(
        self,
        received: dt.datetime,
        state: str,
        kab: KabKota,
        owner: int,
        *,
        transferred_from: tuple[int, dt.datetime, int, list[Person], str, str] | None = None,
    ) -> Moved | None:
        """Write one case and everything on it; returns what a transfer copies (its id, people,
        kind and risk) when the case was transferred out."""
        rng = self.rng
        self.number += 1
        case_id = self.next_id("cases")
        reference = self.reference(owner, received)
        external_id = None if transferred_from else f"gen-{self.seed}-{self.number}"
        self.states_seen[state] = self.states_seen.get(state, 0) + 1

        # --- what happened
        if transferred_from:
            _from_id, first_received, first_agency, people, kind, risk = transferred_from
        else:
            first_received, first_agency = received, owner
            kind = rng.choices(["ktp", "kta", "ampk", "tppo"], [38, 32, 14, 16])[0]
            risk = rng.choices(["tinggi", "sedang", "rendah"], [25, 50, 25])[0]
            if kind == "tppo" and rng.random() < 0.5:
                risk = "tinggi"
            people = []
        if state == "kedaruratan":
            risk = "tinggi"
        sexual = rng.random() < (0.35 if kind == "ktp" else 0.45)
        types = [kind] + (["tpks"] if sexual and kind != "tppo" else [])
        if kind == "ampk":
            types.append("kta")
        back = rng.uniform(0, 60 if kind == "tppo" else 30)
        day = (received - dt.timedelta(days=back)).astimezone(JAKARTA).date()
        precision = "hari"
        if rng.random() < 0.12:
            precision, day = "bulan", day.replace(day=1)
        kec = rng.choice(kab.kecamatan) if rng.random() < 0.7 else None
        region_id = kec.id if kec else kab.region.id
        domestic = kind in ("ktp", "kta") and rng.random() < 0.6
        place, ranah = (
            ("rumah_tangga", "domestik")
            if domestic
            else ("tempat_kerja", "ketenagakerjaan")
            if kind == "tppo"
            else rng.choice(
                [("fasilitas_umum", "publik"), ("sekolah", "publik"), ("daring", "daring")]
            )
        )
        destination = None
        if kind == "tppo" and rng.random() < 0.6:
            destination = rng.choices([c for c, _ in COUNTRIES], [w for _, w in COUNTRIES])[0]

        if not people:
            count = 1
            roll = rng.random()
            if kind == "tppo":
                count = 1 if roll < 0.6 else rng.randint(2, 5)
            elif roll > 0.83:
                count = 2 if roll < 0.96 else 3
            for _ in range(count):
                if kind == "ktp" or (kind == "tppo" and rng.random() < 0.7):
                    sex, age = "P", rng.randint(18, 55)
                elif kind == "tppo":
                    sex, age = rng.choice("LP"), rng.randint(15, 45)
                else:
                    sex = "P" if rng.random() < 0.7 else "L"
                    age = 17 if sex == "P" and rng.random() < 0.2 else rng.randint(3, 17)
                person_name = self.name(sex)
                birth = None
                if rng.random() < 0.6:
                    anniversary = dt.date(day.year - age, day.month, min(day.day, 28))
                    birth = anniversary - dt.timedelta(days=rng.randint(1, 360))
                nik = None
                if age >= 17 and rng.random() < 0.5:
                    dd = (birth.day if birth else rng.randint(1, 28)) + (40 if sex == "P" else 0)
                    mm = birth.month if birth else rng.randint(1, 12)
                    yy = (birth.year if birth else day.year - age) % 100
                    nik = (
                        f"{kab.region.code.replace('.', '')}{rng.randint(1, 40):02d}"
                        f"{dd:02d}{mm:02d}{yy:02d}{rng.randint(1, 9999):04d}"
                    )
                violence = ["psikis"]
                if kind == "tppo":
                    violence = ["eksploitasi", "trafficking"] + (
                        ["fisik"] if rng.random() < 0.3 else []
                    )
                else:
                    if domestic or rng.random() < 0.4:
                        violence.append("fisik")
                    if sexual:
                        violence.append("seksual")
                    if domestic and rng.random() < 0.2:
                        violence.append("penelantaran")
                guardian = self.name("P") if age < 18 and rng.random() < 0.8 else None
                people.append(Person(sex, age, person_name, birth, nik, violence, guardian))

        # --- the case row and its people
        manager_id = None
        assessed: dt.datetime | None = None
        channel = "pelimpahan_masuk" if transferred_from else rng.choices(
            ["datang_langsung", "telepon", "whatsapp", "hotline_sapa129", "pihak_ketiga",
             "rujukan_masuk", "penjangkauan", "surat_email", "media"],
            [30, 10, 18, 12, 12, 8, 5, 3, 2],
        )[0]  # fmt: skip
        reporter_kind = (
            "pihak_ketiga" if people[0].age < 18 or channel == "pihak_ketiga" else "korban"
        )
        if rng.random() < 0.03:
            reporter_kind = "anonim"
        reporter_name = self.name("P") if reporter_kind == "pihak_ketiga" else None

        tracks: list[Track] = []
        consents: list[
            tuple[int, str, str, dt.datetime]
        ] = []  # victim index, purpose, decision, at
        referrals: list[tuple[Track, int, str]] = []  # track, provider, referral state
        notes: list[dt.datetime] = []
        closed_at: dt.datetime | None = None
        closed_reason: str | None = None
        kewenangan = "kabkota"
        transfer: tuple[str, dt.datetime, int, dt.datetime | None] | None = None
        limit = LIMIT

        def later(start: dt.datetime, days: tuple[float, float]) -> dt.datetime:
            return min(start + dt.timedelta(days=rng.uniform(*days)), limit)

        def consent_all(purpose: str, decision: str, at: dt.datetime) -> None:
            for i in range(len(people)):
                consents.append((i, purpose, decision, at))

        gives_consent = state != "diterima" or rng.random() < 0.5
        consent_at = min(received + dt.timedelta(minutes=rng.randint(15, 90)), limit)
        if gives_consent:
            consent_all("layanan", "setuju", consent_at)
            if rng.random() < 0.7:
                consent_all("pelaporan_statistik", "setuju", consent_at)
        intake_done = min(received + dt.timedelta(hours=rng.uniform(0.3, 30)), limit)
        plan = self.services_for(kind, people, sexual, destination)
        first_response: dt.datetime | None = None

        if state == "diterima":
            tracks.append(Track(0, S.PENGADUAN, "berjalan", owner, received))
        else:
            first_response = intake_done
            tracks.append(Track(0, S.PENGADUAN, "selesai", owner, received, intake_done))
        emergency_end = intake_done
        if (
            state not in ("diterima",)
            and risk == "tinggi"
            and (state == "kedaruratan" or (state != "identifikasi" and rng.random() < 0.6))
        ):
            emergency = self.provider(kab, owner, S.KEDARURATAN)
            if state == "kedaruratan":
                tracks.append(Track(0, S.KEDARURATAN, "berjalan", emergency, intake_done))
                shelter = self.provider(kab, owner, S.PENAMPUNGAN_SEMENTARA)
                if shelter is not None and rng.random() < 0.5:
                    tracks.append(
                        Track(0, S.PENAMPUNGAN_SEMENTARA, "berjalan", shelter, intake_done)
                    )
            else:
                emergency_end = later(intake_done, DURATION[S.KEDARURATAN])
                tracks.append(
                    Track(0, S.KEDARURATAN, "selesai", emergency, intake_done, emergency_end)
                )

        if state == "dilimpahkan":
            closed_at = later(emergency_end, (0.5, 10))
            target = self.transfer_target(kab, owner)
            kewenangan = (
                "provinsi" if target == self.country.province_owner[kab.province.id] else "kabkota"
            )
            closed_reason = f"Dilimpahkan ke {self.country.by_id[target].name} sesuai kewenangan."
            transfer = (
                "diterima",
                closed_at - dt.timedelta(hours=rng.uniform(2, 48)),
                target,
                closed_at,
            )
        elif state in (
            "asesmen",
            "ditutup",
            "rencana_intervensi",
            "intervensi",
            "pemantauan",
            "terminasi",
        ):
            assessed = later(emergency_end, (1, 6))
            if state == "asesmen":
                assessed = None
                if rng.random() < 0.1:  # a transfer asked, not answered yet
                    transfer = (
                        "menunggu",
                        later(emergency_end, (0.5, 3)),
                        self.transfer_target(kab, owner),
                        None,
                    )
                elif rng.random() < 0.05:
                    asked = later(emergency_end, (0.5, 3))
                    transfer = (
                        "ditolak",
                        asked,
                        self.transfer_target(kab, owner),
                        min(asked + DAY, limit),
                    )
            elif state == "ditutup":
                closed_reason = rng.choice(CLOSING_REASONS)
                did_assess = rng.random() < 0.5
                start = assessed if did_assess else emergency_end
                closed_at = later(start, (2, 40))
                if did_assess:
                    manager_id = self.manager(owner)
                    service = plan[0][1]
                    tracks.append(
                        Track(
                            0,
                            service,
                            "dibatalkan",
                            self.provider(kab, owner, service),
                            None,
                            assessed + (closed_at - assessed) / 2,
                            "Kasus ditutup.",
                        )
                    )
                else:
                    assessed = None
                if closed_reason.startswith("Korban mencabut"):
                    consent_all("layanan", "menolak", closed_at - HOUR)
            else:
                manager_id = self.manager(owner)
                self.plan_tracks(state, kab, owner, plan, assessed, tracks, consents, referrals)
                if state == "terminasi":
                    ends = [t.end for t in tracks if t.end is not None]
                    closed_at = min(
                        max([*ends, assessed]) + dt.timedelta(days=rng.uniform(1, 3)), limit
                    )
                if assessed is not None and rng.random() < 0.6:
                    last = closed_at or limit
                    for _ in range(rng.randint(1, 2)):
                        notes.append(assessed + (last - assessed) * rng.random())

        # referrals for the tracks an agency other than the owner provides: every open one; of
        # the ended ones, those the history kept (older records carry only the track's outcome)
        for track in tracks:
            if track.provider is None or track.provider == owner:
                continue
            if track.state in ENDED and rng.random() > REFERRED_ENDED:
                continue
            if track.state in ("dirujuk", "diterima_penyedia", "berjalan", "selesai"):
                state_of = {"dirujuk": "dikirim", "diterima_penyedia": "diterima"}.get(
                    track.state, track.state
                )
                if track.state in ("berjalan", "selesai") and rng.random() < 0.06:
                    others = [
                        a
                        for a in kab.providers.get(track.service, [])
                        if a not in (owner, track.provider)
                    ]
                    if others:
                        referrals.append((track, rng.choice(others), "ditolak"))
                referrals.append((track, track.provider, state_of))
            elif track.state == "dibatalkan" and track.start is not None and rng.random() < 0.5:
                referrals.append((track, track.provider, "ditarik"))
        # consent to each referral, before it
        referral_consent: dict[tuple[int, int], int] = {}
        consent_rows: list[tuple[int, str, str, dt.datetime]] = list(consents)
        for track, to_agency, _state in referrals:
            key = (track.victim, to_agency)
            if key in referral_consent:
                continue
            at = max(
                (track.start or assessed or received) - dt.timedelta(hours=rng.uniform(1, 30)),
                received,
            )
            referral_consent[key] = len(consent_rows)
            consent_rows.append(
                (track.victim, f"rujukan:{self.country.by_id[to_agency].code}", "setuju", at)
            )

        # --- write the case
        last = max(
            [received, assessed or received, closed_at or received]
            + [t.end or t.start or received for t in tracks]
        )
        case_manager = manager_id
        self.w.add(
            "cases",
            case_id,
            reference,
            owner,
            external_id,
            state,
            "tppo" if kind == "tppo" else "ktpa",
            1,
            received,
            channel,
            case_manager,
            reporter_kind,
            self.enc(reporter_name, "cases.reporter_name"),
            ("keluarga" if people[0].age < 18 else "tetangga")
            if reporter_kind == "pihak_ketiga"
            else None,
            day,
            precision,
            region_id,
            place,
            ranah,
            self.enc(KRONOLOGI[kind], "cases.kronologi"),
            risk,
            kewenangan,
            "belum_diverifikasi",
            assessed,
            closed_at,
            self.enc(closed_reason, "cases.closed_reason"),
            received,
            last,
            3,
            transferred_from[0] if transferred_from else None,
            first_received,
            first_agency,
        )
        for t in dict.fromkeys(types):
            self.w.add("case_types", case_id, t)
        for position, p in enumerate(people, start=1):
            person_id = self.next_id("persons")
            self.w.add(
                "persons",
                person_id,
                owner,
                name_dob_index(p.name, p.birth_date.isoformat()) if p.birth_date else None,
                nik_index(p.nik) if p.nik else None,
                received,
            )
            p.row_id = victim_id = self.next_id("victims")
            child = p.age < 18
            tppo = kind == "tppo"
            self.w.add(
                "victims",
                victim_id,
                case_id,
                position,
                person_id,
                self.enc(p.name, "victims.name"),
                self.name_index(p.name),
                self.enc(p.nik, "victims.nik"),
                nik_index(p.nik) if p.nik else None,
                p.sex,
                self.enc(p.birth_date.isoformat() if p.birth_date else None, "victims.birth_date"),
                p.age,
                child,
                False,
                None,
                None,
                "sd" if p.age < 13 else "smp" if p.age < 16 else "sma",
                None if child else "karyawan swasta",
                "belum_kawin" if child else ("kawin" if domestic else "belum_kawin"),
                "WNI",
                region_id,
                self.enc(
                    f"Jl. {rng.choice(STREETS)} Fiktif No. {rng.randint(1, 99)}", "victims.address"
                )
                if rng.random() < 0.5
                else None,
                None,
                True if p.nik else None,
                True if child else None,
                None,
                '["perekrutan", "pengangkutan"]' if tppo else "[]",
                '["penipuan"]' if tppo else "[]",
                '["kerja_paksa"]' if tppo else "[]",
                (destination is not None) if tppo else None,
                destination,
            )
            key_id, digests = self.name_keys(p.name)
            for digest in sorted(digests):
                self.w.add("victim_name_keys", victim_id, digest, case_id, key_id)
            for v in p.violence:
                self.w.add("victim_violence_types", victim_id, v)
            if kind == "ampk":
                self.w.add("victim_ampk_categories", victim_id, "kekerasan_fisik_psikis")
            if p.guardian:
                self.w.add(
                    "guardians",
                    self.next_id("guardians"),
                    victim_id,
                    self.enc(p.guardian, "guardians.name"),
                    "ibu kandung",
                    None,
                )
        perpetrators = 1 if rng.random() < 0.85 else (2 if rng.random() < 0.8 else 0)
        for position in range(1, perpetrators + 1):
            perpetrator_id = self.next_id("perpetrators")
            self.w.add(
                "perpetrators",
                perpetrator_id,
                case_id,
                position,
                self.enc(self.name("L"), "perpetrators.name") if rng.random() < 0.8 else None,
                "L" if rng.random() < 0.9 else "P",
                rng.randint(20, 60),
            )
            relation = (
                "agen_penyalur" if kind == "tppo"
                else "suami_istri" if domestic and kind == "ktp"
                else "orang_tua" if domestic
                else rng.choice(STRANGERS)
            )  # fmt: skip
            for p in people:
                self.w.add("perpetrator_relations", perpetrator_id, p.row_id, relation)

        # consent ledger
        consent_ids: list[int] = []
        for victim, purpose, decision, at in consent_rows:
            p = people[victim]
            consent_id = self.next_id("consent_entries")
            consent_ids.append(consent_id)
            giver = (
                f"wali\t{self.enc(p.guardian, 'consent_entries.given_by_name')}"
                if p.guardian is not None
                else f"korban\t{NULL}"
            )
            at_text = _iso(at)
            self.consent_lines.append(
                f"{consent_id}\t{p.row_id}\t{purpose}\t{decision}\t{giver}\t{at_text}\t{at_text}\n"
            )

        # service tracks, each with its history row and audit entry
        owner_code = self.country.by_id[owner].code
        self.sealer.record(
            "case.register",
            case_id,
            {"agency": owner_code, "reference": reference, "risk": risk},
            f'{{"agency": "{owner_code}", "reference": "{reference}", "risk": "{risk}"}}',
        )
        external_json = _json_text(external_id)
        self.transition(
            case_id,
            None,
            received,
            "register",
            None,
            "diterima",
            f'{{"external_id":{external_json}}}',
        )
        plan_at = assessed or received
        for track in tracks:
            track.id = self.next_id("service_tracks")
            p = people[track.victim]
            planned = track.start if track.start is not None and track.start < plan_at else plan_at
            planned_text = _iso(planned)
            reason = track.end_reason
            self.track_lines.append(
                f"{track.id}\t{case_id}\t{p.row_id}\t{track.service.value}\t"
                f"{NULL if track.provider is None else track.provider}\t{track.state}\t"
                f"{_isonull(track.start)}\t{_isonull(track.end)}\t"
                f"{NULL if reason is None else self.enc(reason, 'service_tracks.end_reason')}\t"
                f"{planned_text}\t{_iso(track.end or track.start or planned)}\t1\t2\t"
                f"{planned_text}\n"
            )
            provider_code = self.country.by_id[track.provider].code if track.provider else None
            provider_json = _json_text(provider_code)
            service_name = track.service.value
            label = f"K{track.victim + 1}"
            self.transition(
                case_id,
                track.id,
                track.end or track.start or received,
                "import",
                None,
                track.state,
                f'{{"provider":{provider_json},"service_type":"{service_name}","victim":"{label}"}}',
            )
            self.sealer.record(
                "track.create",
                case_id,
                {
                    "track": track.id,
                    "victim": label,
                    "service_type": service_name,
                    "state": track.state,
                    "provider": provider_code,
                },
                f'{{"track": {track.id}, "victim": "{label}", "service_type": "{service_name}", '
                f'"state": "{track.state}", "provider": {provider_json}}}',
            )
        if state != "diterima":
            known = [received, assessed] + [t.start for t in tracks] + [t.end for t in tracks]
            arrived = closed_at if state in CLOSED else max(k for k in known if k is not None)
            assert arrived is not None
            self.transition(
                case_id,
                None,
                arrived,
                "import",
                "diterima",
                state,
                f'{{"external_id":{external_json}}}',
                closed_reason,
            )

        # referrals and their events; deadlines
        self.deadline_first_response(
            case_id, owner, manager_id, risk, received, first_response, closed_at
        )
        if "tpks" in types:
            police = next((t for t in tracks if t.service is S.PENEGAKAN_HUKUM and t.start), None)
            self.deadline(
                "police_report_tpks",
                case_id,
                None,
                received,
                received + 3 * DAY,
                manager_id,
                owner,
                police.start if police else None,
                closed_at if police is None else None,
            )
        for track, to_agency, referral_state in referrals:
            consent_id = consent_ids[referral_consent[(track.victim, to_agency)]]
            self.referral(
                case_id, owner, manager_id, track, to_agency, referral_state, consent_id, received
            )
        for at in notes:
            self.w.add(
                "case_notes",
                self.next_id("case_notes"),
                case_id,
                manager_id,
                at,
                self.enc(rng.choice(NOTES), "case_notes.body"),
            )
        self.sealer.record(
            "case.import",
            case_id,
            {
                "external_id": external_id,
                "reference": reference,
                "state": state,
                "tracks": len(tracks),
            },
            f'{{"external_id": {external_json}, "reference": "{reference}", '
            f'"state": "{state}", "tracks": {len(tracks)}}}',
        )
        if transfer is not None:
            transfer_state, asked, target, decided = transfer
            transfer_id = self.next_id("case_transfers")
            new_case_id = None
            if transfer_state == "diterima":
                new_case_id = self.ids["cases"]  # the next case written is the receiving one
            supervisor = self.staff.get(target, Staff()).supervisor
            self.w.add(
                "case_transfers",
                transfer_id,
                case_id,
                owner,
                target,
                transfer_state,
                self.enc(TRANSFER_REASON, "case_transfers.reason"),
                manager_id,
                asked,
                supervisor if decided else None,
                decided,
                self.enc(
                    DECLINE_TRANSFER if transfer_state == "ditolak" else None,
                    "case_transfers.decision_reason",
                ),
                new_case_id,
                2 if decided else 1,
            )
            if transfer_state == "diterima":
                assert decided is not None
                return Moved(case_id, people, kind, risk, target, decided)
        return None

    def transfer_target(self, kab: KabKota, owner: int) -> int:
        province = self.country.province_owner[kab.province.id]
        if owner != province:
            return province
        return (
            kab.owner_id
            if kab.owner_id != owner
            else self.rng.choice(self.country.kabkota).owner_id
        )

    def services_for(
        self, kind: str, people: list[Person], sexual: bool, destination: str | None
    ) -> list[tuple[int, S]]:
        """The intervention plan: (victim index, service) pairs."""
        rng = self.rng
        plan: list[tuple[int, S]] = []
        for i, p in enumerate(people):
            services: list[S] = [S.REHABILITASI_SOSIAL, S.PENDAMPINGAN]
            if "fisik" in p.violence or "seksual" in p.violence:
                services.insert(0, S.REHABILITASI_KESEHATAN)
            if kind == "tppo":
                services = [
                    S.PENAMPUNGAN_SEMENTARA,
                    S.REHABILITASI_KESEHATAN,
                    S.REHABILITASI_SOSIAL,
                ]
                if destination:
                    services.append(S.PEMULANGAN)
                services += [S.PENEGAKAN_HUKUM, S.REINTEGRASI_SOSIAL]
            elif sexual or rng.random() < 0.45:
                services += [S.BANTUAN_HUKUM, S.PENEGAKAN_HUKUM]
            elif kind == "ktp" and rng.random() < 0.3:
                services.append(S.MEDIASI)
            if rng.random() < 0.3:
                services.append(S.PEMBERDAYAAN_EKONOMI)
            if rng.random() < 0.1:
                services.append(S.PENDAMPINGAN_ROHANI)
            if p.age < 18 and rng.random() < 0.15:
                services.append(S.DOKUMEN_KEPENDUDUKAN)
            if rng.random() < 0.25:
                services.append(S.PENJANGKAUAN)
            plan += [(i, s) for s in dict.fromkeys(services)]
        return plan

    def plan_tracks(
        self,
        state: str,
        kab: KabKota,
        owner: int,
        plan: list[tuple[int, S]],
        assessed: dt.datetime,
        tracks: list[Track],
        consents: list[tuple[int, str, str, dt.datetime]],
        referrals: list[tuple[Track, int, str]],
    ) -> None:
        rng = self.rng
        limit = LIMIT
        taken = {(t.victim, t.service) for t in tracks}
        plan = [item for item in plan if item not in taken]
        if state == "rencana_intervensi":
            for victim, service in plan:
                provider = self.provider(kab, owner, service) if rng.random() < 0.7 else None
                track = Track(victim, service, "direncanakan", provider)
                tracks.append(track)
                if provider is not None and provider != owner and rng.random() < 0.4:
                    referrals.append((track, provider, "draf"))
            return
        schedule = []
        for victim, service in plan:
            start = assessed + dt.timedelta(days=rng.uniform(0, 10))
            length = dt.timedelta(days=rng.uniform(*DURATION[service]))
            schedule.append((victim, service, start, length))
        if state in ("terminasi", "pemantauan") and schedule:
            last_end = max(start + length for _v, _s, start, length in schedule)
            room = limit - dt.timedelta(days=3) - assessed
            span = last_end - assessed
            if span > room > dt.timedelta(0):
                factor = room / span
                schedule = [
                    (v, s, assessed + (start - assessed) * factor, length * factor)
                    for v, s, start, length in schedule
                ]
        open_left = False
        for index, (victim, service, start, length) in enumerate(schedule):
            start = min(start, limit)
            end = start + length
            provider = self.provider(kab, owner, service)
            if provider is None:
                tracks.append(
                    Track(victim, service, "tidak_tersedia", None, None, start,
                          "Belum ada penyedia layanan di wilayah korban.")
                )  # fmt: skip
                continue
            if state == "intervensi":
                if end < limit and rng.random() < 0.5 and (open_left or index < len(schedule) - 1):
                    tracks.append(Track(victim, service, "selesai", provider, start, end))
                else:
                    status = (
                        "berjalan"
                        if provider == owner
                        else rng.choices(["berjalan", "diterima_penyedia", "dirujuk"], [5, 2, 1])[0]
                    )
                    tracks.append(Track(victim, service, status, provider, start))
                    open_left = True
                continue
            if state == "pemantauan" and service is S.PENEGAKAN_HUKUM and rng.random() < 0.5:
                tracks.append(Track(victim, service, "berjalan", provider, start))
                continue
            roll = rng.random()
            if roll < 0.06 and service is not S.PENEGAKAN_HUKUM:
                at = min(start + 2 * HOUR, limit)
                consents.append((victim, f"layanan:{service.value}", "menolak", at))
                tracks.append(Track(victim, service, "ditolak_korban", provider, start, at))
            elif roll < 0.09:
                tracks.append(
                    Track(victim, service, "dibatalkan", provider, start, start + length / 3,
                          "Korban memilih layanan lain.")
                )  # fmt: skip
            else:
                tracks.append(Track(victim, service, "selesai", provider, start, end))

    # --- referrals and deadlines
    def referral(
        self,
        case_id: int,
        owner: int,
        manager_id: int | None,
        track: Track,
        to_agency: int,
        state: str,
        consent_id: int,
        received: dt.datetime,
    ) -> None:
        rng = self.rng
        limit = LIMIT
        referral_id = self.next_id("referrals")
        start = track.start or limit
        base = max(received + HOUR, start - 3 * DAY)
        if base > start:
            base = start
        sent: dt.datetime | None = base + (start - base) * rng.uniform(0.1, 0.3)
        assert sent is not None
        if state == "ditolak":  # an earlier referral, declined; the track went elsewhere after
            sent = max(received + HOUR, sent - dt.timedelta(days=rng.uniform(1, 5)))
        opened = accepted = started = ended = None
        decline = outcome = withdraw = None
        events: list[tuple[Any, ...]] = []
        receiver = self.staff.get(to_agency, Staff()).supervisor
        created = sent
        if state == "draf":
            sent = None
            created = max(limit - dt.timedelta(hours=rng.uniform(1, 200)), received + HOUR)
        else:
            shared = ["identitas", "kejadian", "asesmen"]
            events.append(
                (sent, manager_id, owner, "send", "draf", "dikirim", None,
                 _jsonb({"shared": shared, "attachments": [], "consent": consent_id}))
            )  # fmt: skip
            horizon = start if state != "ditolak" else sent + (start - sent) * 0.5
            if horizon <= sent:
                horizon = min(sent + HOUR, limit)
            if state != "dikirim" or rng.random() < 0.5:
                opened = sent + (horizon - sent) * rng.uniform(0.05, 0.3)
                events.append((opened, receiver, to_agency, "opened", None, None, None, "{}"))
            if state == "ditolak":
                assert opened is not None
                ended = opened + (horizon - opened) * rng.uniform(0.2, 0.9)
                decline = rng.choice(DECLINES)
                events.append((ended, receiver, to_agency, "decline", "dikirim", "ditolak",
                               self.enc(decline, "referral_events.text"), "{}"))  # fmt: skip
            elif state == "ditarik":
                ended = max(track.end or limit, sent)
                withdraw = rng.choice(WITHDRAWALS)
                events.append((ended, manager_id, owner, "withdraw", "dikirim", "ditarik",
                               self.enc(withdraw, "referral_events.text"), "{}"))  # fmt: skip
            elif state in ("diterima", "berjalan", "selesai"):
                assert opened is not None
                accepted = opened + (horizon - opened) * rng.uniform(0.2, 0.9)
                events.append(
                    (accepted, receiver, to_agency, "accept", "dikirim", "diterima", None, "{}")
                )
                if state in ("berjalan", "selesai"):
                    started = max(start, accepted)
                    events.append(
                        (started, receiver, to_agency, "start", "diterima", "berjalan", None, "{}")
                    )
                    stop = max(track.end or limit, started)
                    if rng.random() < 0.5:
                        note_at = started + (stop - started) * rng.random()
                        text = self.enc(rng.choice(REFERRAL_NOTES), "referral_events.text")
                        events.append(
                            (note_at, receiver, to_agency, "note", None, None, text, "{}")
                        )
                    if state == "selesai":
                        ended = stop
                        outcome = rng.choice(OUTCOMES)
                        text = self.enc(outcome, "referral_events.text")
                        events.append(
                            (ended, receiver, to_agency, "complete", "berjalan", "selesai", text,
                             "{}")
                        )  # fmt: skip
        service = track.service
        self.w.add(
            "referrals",
            referral_id,
            case_id,
            track.id,
            owner,
            to_agency,
            state,
            self.enc(MESSAGES.get(service, DEFAULT_MESSAGE), "referrals.message"),
            True,
            True,
            service is not S.PENEGAKAN_HUKUM,
            consent_id,
            manager_id,
            created,
            sent,
            opened,
            accepted,
            started,
            ended,
            self.enc(decline, "referrals.decline_reason"),
            self.enc(outcome, "referrals.outcome"),
            self.enc(withdraw, "referrals.withdraw_reason"),
            1 + sum(1 for e in events if e[4] is not None),
        )
        for event in events:
            at, actor, agency, kind, source, target, text, data = event
            self.event_lines.append(
                f"{self.next_id('referral_events')}\t{referral_id}\t{_iso(at)}\t"
                f"{NULL if actor is None else actor}\t{agency}\t{kind}\t{source or NULL}\t"
                f"{target or NULL}\t{text or NULL}\t{data}\n"
            )
        if sent is not None:
            answered = accepted or (ended if state == "ditolak" else None)
            self.deadline(
                "referral_response",
                case_id,
                track.id,
                sent,
                self.two_working_days(sent),
                None,
                to_agency,
                answered,
                ended if state == "ditarik" else None,
            )

    def two_working_days(self, start: dt.datetime) -> dt.datetime:
        """``add_working_days(start, 2)``, computed once per WIB date: the same WIB time on the
        second working day after it."""
        local = start.astimezone(JAKARTA)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        day = self.working_days.get(midnight.date())
        if day is None:
            day = self.working_days[midnight.date()] = add_working_days(midnight, 2)
        return day + (local - midnight)

    def deadline_first_response(
        self,
        case_id: int,
        owner: int,
        manager_id: int | None,
        risk: str,
        received: dt.datetime,
        responded: dt.datetime | None,
        closed_at: dt.datetime | None,
    ) -> None:
        due = received + dt.timedelta(hours=FIRST_RESPONSE_HOURS[risk])
        self.deadline(
            f"first_response_{risk}",
            case_id,
            None,
            received,
            due,
            manager_id,
            owner,
            responded,
            closed_at if responded is None else None,
        )

    def deadline(
        self,
        code: str,
        case_id: int,
        track_id: int | None,
        started: dt.datetime,
        due: dt.datetime,
        user_id: int | None,
        agency_id: int,
        completed: dt.datetime | None,
        cancelled: dt.datetime | None,
    ) -> None:
        met = missed = notified = escalated = None
        if completed is not None:
            cancelled = None
            if completed <= due:
                met = completed
            else:
                missed = due
        elif (cancelled is None or cancelled > due) and due < LIMIT:
            missed = due
            notified = due + dt.timedelta(minutes=5)
            if due + DAY < LIMIT:
                escalated = due + DAY
        started_text = _iso(started)
        self.deadline_lines.append(
            f"{self.next_id('deadlines')}\t{code}\t{case_id}\t"
            f"{NULL if track_id is None else track_id}\t{started_text}\t{_iso(due)}\t"
            f"{NULL if user_id is None else user_id}\t{agency_id}\t{started_text}\t"
            f"{_isonull(completed)}\t{_isonull(met)}\t{_isonull(missed)}\t"
            f"{_isonull(notified)}\t{_isonull(escalated)}\t{_isonull(cancelled)}\n"
        )


# --- the command -------------------------------------------------------------------------------


def _refuse_unless_empty() -> None:
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        raise GenerateRefused(
            "flask demo generate menulis dengan COPY PostgreSQL; basis data ini "
            f"{bind.dialect.name}. (flask demo generate writes with PostgreSQL COPY; this "
            f"database is {bind.dialect.name}.)"
        )
    for table in MUST_BE_EMPTY:
        # the names are this module's own constants, never input
        query = f"SELECT EXISTS (SELECT 1 FROM {table})"  # noqa: S608  # nosec B608
        if db.session.execute(sa.text(query)).scalar():
            raise GenerateRefused(
                f"Basis data tidak kosong: tabel {table} sudah berisi data; riwayat hanya dibuat "
                f"di basis data kosong yang sudah dimigrasikan. (The database is not empty: "
                f"{table} has rows; generate into an empty migrated database.)"
            )


def _first_ids() -> dict[str, int]:
    ids = {}
    for table in WITH_IDS:
        query = f"SELECT coalesce(max(id), 0) + 1 FROM {table}"  # noqa: S608  # nosec B608
        ids[table] = db.session.execute(sa.text(query)).scalar_one()
    return ids


def _progress(out: TextIO, done: int, total: int, started: float) -> None:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else 0.0
    out.write(f"\r{done:,}/{total:,} cases, {rate:,.0f} cases/s, ETA {eta:,.0f} s   ")
    out.flush()


def generate_history(
    cases: int,
    seed: int,
    *,
    years: int = 5,
    progress: TextIO | None = sys.stderr,
    chunk: int = CHUNK,
) -> Report:
    """Fill the empty database with a national history of ``cases`` cases; the caller commits.
    Refused (``GenerateRefused``) on anything but an empty PostgreSQL database."""
    if cases < 1:
        raise GenerateRefused("Jumlah kasus minimal 1. (At least one case.)")
    if not 1 <= years <= 30:
        raise GenerateRefused("Jumlah tahun antara 1 dan 30. (Between 1 and 30 years.)")
    started = time.monotonic()
    cpu = time.process_time()
    _refuse_unless_empty()
    session = db.session
    # one writer of the audit chain at a time, as the operations (app.audit.operations)
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    tail = session.execute(
        sa.text(
            "SELECT entry_hash FROM audit_entries WHERE entry_hash IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        )
    ).scalar()
    first_audit = session.execute(
        sa.text("SELECT coalesce(max(id), 0) + 1 FROM audit_entries")
    ).scalar_one()
    ids = _first_ids()
    backend = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    backend_cpu = _process_cpu(backend)
    # Foreign keys: checked once per constraint over the whole table at the end
    # (``_check_foreign_keys``), not row by row — the row checks (a look-up per key per row) took
    # most of the database's time. Only a superuser may switch them off for the transaction;
    # anyone else writes with the row checks.
    deferred = bool(
        session.execute(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    )
    if deferred:
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    writer = Writer(cursor)
    try:
        history, country, supervisor_email = _generate(
            writer, ids, first_audit, tail, seed, cases, years, progress, chunk
        )
    except BaseException:
        writer.abort()
        raise
    if deferred:
        session.execute(sa.text("SET LOCAL session_replication_role = origin"))
        _check_foreign_keys([t for t, n in writer.counts.items() if n])
    for table in [*WITH_IDS, "audit_entries"]:
        session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  # nosec B608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
    biggest = max(history.per_agency.items(), key=lambda item: item[1])
    backend_after = _process_cpu(backend)
    return Report(
        counts={k: v for k, v in writer.counts.items() if v},
        seconds=time.monotonic() - started,
        cpu_seconds=time.process_time() - cpu,
        database_cpu_seconds=(
            backend_after - backend_cpu
            if backend_after is not None and backend_cpu is not None
            else None
        ),
        supervisor=supervisor_email,
        biggest_agency=country.by_id[biggest[0]].code,
        biggest_cases=biggest[1],
    )


def _generate(
    writer: Writer,
    ids: dict[str, int],
    first_audit: int,
    tail: str | None,
    seed: int,
    cases: int,
    years: int,
    progress: TextIO | None,
    chunk: int,
) -> tuple[History, Country, str]:
    """The reference data, then the cases in chunks; every row handed to ``writer``."""
    sealer = Sealer(writer, first_audit, tail or "0" * 64, current_app.config["AUDIT_HMAC_KEY"])

    rng = random.Random(seed)
    country = build_country(rng, first_region_id=ids["regions"], first_agency_id=ids["agencies"])
    now = sealer.at
    for r in country.regions:
        writer.add("regions", r.id, r.code, r.name, r.level, r.parent_id, now, now, 1)
    year_list = list(range(ANCHOR.year - years, ANCHOR.year + 1))
    for row in population_rows(country, rng, year_list):
        writer.add("population", *row, now)
    for a in country.agencies:
        writer.add("agencies", a.id, a.code, a.name, a.type.value, a.region_id, True, now, now, 1)
        for service in a.services:
            writer.add("agency_services", a.id, service.value)
    _task_forces(country, writer, ids, now)

    # case-owning agencies ranked by the population they serve: the biggest gets the most cases
    ranked = sorted(country.kabkota, key=lambda k: -k.region.population)
    zipf = Zipf(len(ranked), TOP_SHARE / (1 - PROVINCE_SHARE))
    staff, supervisor_email = _users(country, ranked, writer, ids, now)
    writer.flush()

    history = History(country, staff, writer, sealer, ids, random.Random(seed + 1), seed)
    clock = time.monotonic()
    written = 0
    for received, state in history.plan(cases, years):
        if history.number >= cases:
            break
        kab = ranked[zipf.draw(history.rng)]
        province = country.province_owner[kab.province.id]
        owner = kab.owner_id
        if history.rng.random() < PROVINCE_SHARE:
            owner = province
        if state == "dilimpahkan" and history.number + 2 > cases:
            state = "ditutup"  # no room left for the receiving agency's case
        moved = history.case(received, state, kab, owner)
        if moved is not None:
            history.case(
                moved.decided,
                _state_after_transfer(history.rng, (LIMIT - moved.decided).days),
                kab,
                moved.target,
                transferred_from=(
                    moved.case_id,
                    received,
                    owner,
                    moved.people,
                    moved.kind,
                    moved.risk,
                ),
            )
        if history.number - written >= chunk:
            writer.flush()
            sealer.now()
            written = history.number
            if progress is not None:
                _progress(progress, written, cases, clock)
    for (agency_id, year), number in sorted(history.counters.items()):
        writer.add("case_counters", agency_id, year, number)
    writer.close()
    if progress is not None:
        _progress(progress, history.number, cases, clock)
        progress.write("\n")
    return history, country, supervisor_email


def _process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of process ``pid`` of this machine, None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class BrokenReference(DomainError):
    """A generated row names a row that does not exist (a bug of the generator)."""


def _check_foreign_keys(tables: list[str]) -> None:
    """Every foreign key of ``tables`` holds: one anti-join per constraint."""
    constraints = db.session.execute(
        sa.text(
            """
            SELECT c.conname, child.relname, parent.relname,
                   array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                         ORDER BY k.i),
                   array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                         ORDER BY k.i)
            FROM pg_constraint c
            JOIN pg_class child ON child.oid = c.conrelid
            JOIN pg_class parent ON parent.oid = c.confrelid
            WHERE c.contype = 'f' AND child.relname = ANY(:tables)
              AND child.relnamespace = 'public'::regnamespace
            ORDER BY c.conname
            """
        ),
        {"tables": tables},
    ).all()
    for name, child, parent, columns, parent_columns in constraints:
        present = " AND ".join(f"c.{column} IS NOT NULL" for column in columns)
        match = " AND ".join(
            f"p.{pc} = c.{cc}" for cc, pc in zip(columns, parent_columns, strict=True)
        )
        broken = db.session.execute(
            sa.text(
                # names from the catalogue (pg_constraint) of tables this module wrote
                f"SELECT count(*) FROM {child} c WHERE {present} "  # noqa: S608  # nosec B608
                f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})"
            )
        ).scalar_one()
        if broken:
            raise BrokenReference(f"{broken} rows of {child} break {name}")


def _state_after_transfer(rng: random.Random, age_days: int) -> str:
    if age_days < 3:
        return rng.choice(["diterima", "identifikasi", "asesmen"])
    if age_days < 60:
        return rng.choice(["asesmen", "rencana_intervensi", "intervensi"])
    if age_days < 400:
        return rng.choices(["intervensi", "pemantauan", "terminasi", "ditutup"], [4, 2, 4, 1])[0]
    return rng.choices(["terminasi", "ditutup", "pemantauan"], [8, 2, 1])[0]


def _task_forces(country: Country, writer: Writer, ids: dict[str, int], now: dt.datetime) -> None:
    """A GT P2TPPO per province and kabupaten/kota with its six Sub GTs and their members."""
    agencies_of: dict[int, list[Any]] = {}
    for a in country.agencies:
        agencies_of.setdefault(a.region_id, []).append(a)
    for region in country.regions:
        if region.level not in ("provinsi", "kabkota"):
            continue
        task_force = ids["task_forces"]
        ids["task_forces"] += 1
        writer.add("task_forces", task_force, region.id, f"GT P2TPPO {region.name}", now)
        for key, types in SUBGT_MEMBERS.items():
            sub = ids["sub_task_forces"]
            ids["sub_task_forces"] += 1
            writer.add("sub_task_forces", sub, task_force, key.value)
            for a in agencies_of.get(region.id, []):
                if a.type in types:
                    writer.add("sub_task_force_members", sub, a.id)


def _users(
    country: Country, ranked: list[KabKota], writer: Writer, ids: dict[str, int], now: dt.datetime
) -> tuple[dict[int, Staff], str]:
    """Accounts for a realistic subset: every case-owning agency (supervisor, case managers,
    intake officer), partner agencies of the bigger kabupaten/kota (service staff), a leader and a
    data officer per province, one administrator. The supervisor of the biggest UPTD PPA is
    ``supervisor@simpul.demo``; every account has the demo password."""
    password = hash_password(DEMO_PASSWORD)
    staff: dict[int, Staff] = {}
    biggest = ranked[0].owner_id

    def user(email: str, name: str, role: str, agency_id: int) -> int:
        user_id = ids["users"]
        ids["users"] += 1
        writer.add("users", user_id, email, name, password, True, None, 1, now, now, now, 1)
        writer.add("role_grants", user_id, role, agency_id, None, now)
        return user_id

    owners = sorted({k.owner_id for k in country.kabkota} | set(country.province_owner.values()))
    rank = {k.owner_id: i for i, k in reversed(list(enumerate(ranked)))}
    for agency_id in owners:
        code = country.by_id[agency_id].code.lower()
        s = Staff()
        email = (
            "supervisor@simpul.demo" if agency_id == biggest else f"supervisor.{code}@simpul.demo"
        )
        s.supervisor = user(email, f"Supervisor {code.upper()}", "supervisor", agency_id)
        managers = 4 if rank.get(agency_id, 999) < 20 else 2
        for i in range(1, managers + 1):
            s.managers.append(
                user(
                    f"manajer{i}.{code}@simpul.demo",
                    f"Manajer {i} {code.upper()}",
                    "manajer_kasus",
                    agency_id,
                )
            )
        user(
            f"pengaduan.{code}@simpul.demo",
            f"Pengaduan {code.upper()}",
            "petugas_pengaduan",
            agency_id,
        )
        staff[agency_id] = s
    partners = {"RSUD", "POLRES", "LBH", "DINSOS", "RPTC"}
    big = {k.region.id for k in ranked[:200]}
    for a in country.agencies:
        if a.region_id in big and a.code.split("-")[0] in partners:
            code = a.code.lower()
            staff[a.id] = Staff(
                supervisor=user(
                    f"layanan.{code}@simpul.demo", f"Layanan {a.code}", "petugas_layanan", a.id
                )
            )
    for uptd in country.province_owner.values():
        code = country.by_id[uptd].code.split("-")[1]
        dinas = next(a for a in country.agencies if a.code == f"DP3A-{code}")
        user(f"pimpinan.{code}@simpul.demo", f"Pimpinan {code}", "pimpinan", dinas.id)
        user(f"analis.{code}@simpul.demo", f"Analis Data {code}", "analis_data", uptd)
    user("admin@simpul.demo", "Admin Sistem", "admin", country.agencies[0].id)
    return staff, "supervisor@simpul.demo"
