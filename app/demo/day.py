"""The demo's working day: what the people of every agency are in the middle of when they sign
in, dated back from the moment the demo is loaded — so a referral awaiting an answer really
awaits it, and an overdue one really is overdue, whenever the demo is loaded. (The imported
cases of :mod:`app.demo.cases` keep their fixed dates before ``ANCHOR``; the day's stories all
happen after their histories.)

- **Referrals**: each partner agency that receives referrals (``PARTNERS``: RSUD, Puskesmas,
  Polres, LBH, Dinas Sosial, RPTC) has one referral in every state (``KINDS``): just sent, sent
  days ago and still unanswered past the escalation grace, accepted, in progress with progress
  notes from both sides, completed with its outcome, declined with a reason, withdrawn before the
  answer. Each is a service the UPTD PPA's supervisor added to the plan of a running case (an
  imported one; ``cases.HOST_CASES`` of them are imported with plans that leave these services
  out), sent by its case manager (the supervisor, when the demo manager does not manage it) with
  the victim's (or a guardian's) consent ``rujukan:<agency>`` recorded on the referral form,
  some with a covering letter (a generated PDF) shared, and answered by the agency's demo
  account — all through the referral operations, so the events, the track states and the answer
  deadlines are the product's own.
- **Transfers** (pelimpahan): two cases of the province's UPTD PPA whose people live in the city
  are handed to the city's UPTD PPA: one accepted two days ago (the receiving case, channel
  ``pelimpahan_masuk``, linked to the original and already in triage), one awaiting the city
  supervisor's answer.
- **Complaints registered today and in the last days** by the intake officer: their
  first-response deadlines (open, met, missed, escalated), and the gaps the data-quality queue
  finds (an unknown incident date and region, a perpetrator without a relationship, a letter
  entered days after it arrived, an incident known only to the month).
- Case notes, attachments (a covering letter, a genogram picture) and the notifications every
  step sends.
- **Follow-ups** (tindak lanjut) the case manager set on her running cases: one overdue, one for
  today, two later this week ("Tugas saya").

Then the periodic deadline check runs once (``mark_missed``, ``escalate`` of
``app.deadlines.tasks``): unanswered referrals and untouched complaints are marked missed, their
people told, and those past the grace escalated.

Each story is found again on a second load and skipped: a referral by its track (case, victim,
service), a transfer by its case, a complaint by its external id (``demo-hari-<n>``).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.agencies.models import Agency
from app.agencies.queries import get_agency_by_code
from app.auth.models import User
from app.cases import operations as case_ops
from app.cases.intake import GuardianData, Intake, PerpetratorData, VictimData
from app.cases.models import Case, Victim
from app.core.db import utcnow
from app.core.enums import ServiceType as S
from app.deadlines.operations import effective_rule
from app.deadlines.rules import DeadlineCode
from app.deadlines.tasks import ESCALATION_GRACE, escalate, mark_missed
from app.demo.cases import (
    ANCHOR,
    FAMILY,
    JAKARTA,
    MEN,
    OWNER,
    PROVINCE_OWNER,
    SEED,
    WOMEN,
)
from app.demo.clock import Step, replay
from app.extensions import db
from app.referrals import operations as referral_ops
from app.referrals import queries as referral_queries
from app.referrals.models import Referral
from app.services.models import ServiceTrack
from app.tasks.calendar import jakarta_today
from app.tasks.models import FollowUp
from app.tasks.operations import schedule_follow_up
from app.tasks.permissions import ENDED as FOLLOW_UP_ENDED
from app.workflow import operations as workflow_ops
from app.workflow import registration
from app.workflow.models import CaseTransfer

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

MANAGER = "manajer@simpul.demo"
SUPERVISOR = "supervisor@simpul.demo"
INTAKE = "pengaduan@simpul.demo"
PROVINCE_SUPERVISOR = "provinsi@simpul.demo"

# A referral's story, by the state it ends in (referral_v1): dikirim twice (just sent, and
# overdue), diterima, berjalan, selesai, ditolak, ditarik.
KINDS = ("baru", "terlambat", "diterima", "berjalan", "selesai", "ditolak", "ditarik")
# Host cases: running cases of the city's UPTD PPA whose assessment lies this long before
# ANCHOR, so every step of a story (at most ~40 days back from now) comes after their history.
HOST_STATES = ("intervensi", "pemantauan")
HOST_SETTLED = dt.timedelta(days=45)


@dataclass(frozen=True)
class Partner:
    """A partner agency that receives referrals, its demo account and what its referrals say.
    No text names a person."""

    code: str
    email: str
    service: S
    message: str
    progress: str  # the agency's progress note
    reply: str  # the case manager's answer to it
    outcome: str
    declined: str
    withdrawn: str
    identity: bool = True
    assessment: bool = True


PARTNERS: tuple[Partner, ...] = (
    Partner(
        "RSUD-3273",
        "rsud@simpul.demo",
        S.REHABILITASI_KESEHATAN,
        "Mohon pemeriksaan dan visum et repertum; korban didampingi pendamping UPTD PPA.",
        "Pemeriksaan awal selesai; korban dijadwalkan kontrol ke poliklinik minggu depan.",
        "Terima kasih; pendamping akan menemani korban pada jadwal kontrol.",
        "Visum et repertum selesai dan diserahkan kepada penyidik; perawatan luka tuntas.",
        "Dokter forensik sedang cuti dua minggu; mohon dirujuk ke RS Bhayangkara.",
        "Korban memilih berobat ke puskesmas dekat rumah.",
    ),
    Partner(
        "PKM-327302",
        "puskesmas@simpul.demo",
        S.REHABILITASI_KESEHATAN,
        "Mohon pemeriksaan kesehatan dan konseling di wilayah kerja Puskesmas Coblong.",
        "Korban sudah diperiksa bidan; jadwal kunjungan rumah disepakati bersama keluarga.",
        "Mohon kabari bila korban tidak datang pada jadwal berikutnya.",
        "Pemeriksaan dan konseling kesehatan selesai; korban dirujuk balik ke UPTD PPA.",
        "Korban berdomisili di luar wilayah kerja Puskesmas Coblong; mohon ke puskesmas domisili.",
        "Korban sudah ditangani RSUD; rujukan ke puskesmas tidak diperlukan lagi.",
        identity=False,
    ),
    Partner(
        "POLRES-3273",
        "polisi@simpul.demo",
        S.PENEGAKAN_HUKUM,
        "Korban bersedia melapor; mohon penerimaan laporan dan BAP korban dengan pendampingan.",
        "Laporan polisi sudah diterima; BAP korban dijadwalkan Kamis pukul 10.00 di Unit PPA.",
        "Pendamping hukum dan psikolog akan hadir saat BAP.",
        "Berkas perkara dinyatakan lengkap (P21) dan dilimpahkan ke kejaksaan.",
        "Peristiwa terjadi di wilayah hukum Polres lain; mohon laporan ke Polres setempat.",
        "Korban dan keluarga memilih menunda pelaporan setelah konseling.",
        assessment=False,
    ),
    Partner(
        "LBH-3273",
        "lbh@simpul.demo",
        S.BANTUAN_HUKUM,
        "Mohon pendampingan hukum bagi korban dalam pelaporan dan persidangan.",
        "Surat kuasa sudah ditandatangani; advokat mendampingi korban saat pemeriksaan.",
        "Jadwal sidang akan kami teruskan setelah diterima dari kejaksaan.",
        "Pendampingan selesai; putusan berkekuatan hukum tetap, permohonan restitusi diajukan.",
        "Kapasitas advokat penuh bulan ini; mohon dirujuk ke Posbakum PN Bandung.",
        "Korban sudah didampingi advokat pilihan keluarga.",
        assessment=False,
    ),
    Partner(
        "DINSOS-3273",
        "dinsos@simpul.demo",
        S.REHABILITASI_SOSIAL,
        "Mohon rehabilitasi sosial dan dukungan psikososial lanjutan bagi korban dan keluarga.",
        "Asesmen sosial selesai; korban mengikuti sesi dukungan kelompok setiap Selasa.",
        "Mohon dicatat juga kebutuhan bantuan pendidikan dalam keluarga korban.",
        "Rehabilitasi sosial selesai; keluarga terdaftar sebagai penerima bantuan sosial.",
        "Rehabilitasi sosial kasus ini sudah diberikan yayasan mitra; tidak perlu ganda.",
        "Korban pindah ke rumah keluarga di luar kota; rujukan dialihkan.",
    ),
    Partner(
        "RPTC-3273",
        "rptc@simpul.demo",
        S.PENAMPUNGAN_SEMENTARA,
        "Mohon penampungan sementara; korban tidak aman kembali ke rumah.",
        "Korban sudah menempati kamar; pakaian dan perlengkapan harian sedang disiapkan.",
        "Pendamping akan berkunjung setiap Senin dan Kamis.",
        "Korban keluar dari rumah aman dan tinggal bersama keluarga besar setelah asesmen.",
        "Kapasitas rumah aman penuh; mohon dirujuk ke UPTD PPA Provinsi.",
        "Keluarga besar korban bersedia menampung; penampungan tidak diperlukan lagi.",
    ),
)


DAY_SERVICES = frozenset(p.service for p in PARTNERS)


def at_day(now: dt.datetime, days_ago: int, hour: float) -> dt.datetime:
    """``hour`` o'clock (Asia/Jakarta) on the day ``days_ago`` days before ``now``."""
    day = (now - days_ago * DAY).astimezone(JAKARTA).date()
    local = dt.datetime(day.year, day.month, day.day, tzinfo=JAKARTA)
    return (local + dt.timedelta(hours=hour)).astimezone(dt.UTC)


class People:
    """The demo accounts, looked up once."""

    def __init__(self) -> None:
        self._users: dict[str, User] = {}

    def __getitem__(self, email: str) -> User:
        if email not in self._users:
            self._users[email] = db.session.scalars(select(User).where(User.email == email)).one()
        return self._users[email]

    def sender(self, case: Case) -> User:
        """Who sends the case's referrals: the demo case manager for the cases she manages, the
        supervisor for the others (a case nobody manages is the supervisor's to see)."""
        manager = self[MANAGER]
        return manager if case.case_manager_id == manager.id else self[SUPERVISOR]


def _agency(code: str) -> Agency:
    agency = get_agency_by_code(code)
    assert agency is not None, code
    return agency


def _case(agency_code: str, external_id: str) -> Case | None:
    return db.session.scalar(
        select(Case).where(
            Case.agency_id == _agency(agency_code).id, Case.external_id == external_id
        )
    )


# --- generated files -----------------------------------------------------------------------------


def letter_pdf(lines: list[str]) -> bytes:
    """A one-page covering letter (fpdf2's core font; no person is named)."""
    # local: fpdf2 is loaded only when the demo writes its letter
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def genogram_png() -> bytes:
    """A small family diagram: squares for men, circles for women, the victim filled."""
    # local: Pillow is loaded only when the demo draws its picture
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (180, 110), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 10, 50, 30), outline="black")
    draw.ellipse((130, 10, 150, 30), outline="black")
    draw.line((50, 20, 130, 20), fill="black")
    draw.line((90, 20, 90, 60), fill="black")
    draw.line((60, 60, 120, 60), fill="black")
    draw.ellipse((50, 70, 70, 90), outline="black", fill="black")
    draw.rectangle((110, 70, 130, 90), outline="black")
    draw.line((60, 60, 60, 70), fill="black")
    draw.line((120, 60, 120, 70), fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- referrals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    """Where one referral story happens: a victim (``position``) of an imported case."""

    partner: Partner
    kind: str
    external_id: str
    position: int


def referral_hosts(records: list[dict[str, Any]]) -> list[Host]:
    """One host per partner and kind, chosen from the import records (so the same on every
    load): a victim of a running city case with no track of the partner's service yet, spread
    over as many cases as possible."""
    settled = ANCHOR - HOST_SETTLED
    candidates: list[tuple[str, int, set[str]]] = []
    for record in records:
        if record["agency"] != OWNER or record["status"] not in HOST_STATES:
            continue
        if dt.datetime.fromisoformat(record["assessment_completed_at"]) > settled:
            continue
        for position, victim in enumerate(record["victims"], start=1):
            had = {s["type"] for s in record.get("services", []) if s["victim"] == victim["key"]}
            candidates.append((record["external_id"], position, had))
    hosts: list[Host] = []
    taken: set[tuple[str, int, str]] = set()
    load: Counter[str] = Counter()
    for partner in PARTNERS:
        service = partner.service.value
        for kind in KINDS:
            free = [
                c for c in candidates if service not in c[2] and (c[0], c[1], service) not in taken
            ]
            external_id, position, _had = min(free, key=lambda c: load[c[0]])
            taken.add((external_id, position, service))
            load[external_id] += 1
            hosts.append(Host(partner, kind, external_id, position))
    return hosts


class ReferralStory:
    """One referral of ``host``, from the planning of its service to the state its kind ends in.
    The ``index`` of the story spreads the times of day across the agencies."""

    def __init__(self, host: Host, index: int, case: Case, victim: Victim, people: People):
        self.host, self.partner, self.index = host, host.partner, index
        self.case, self.victim, self.people = case, victim, people
        self.agency = _agency(self.partner.code)
        self.sender = people.sender(case)
        self.receiver = people[self.partner.email]
        self.track: ServiceTrack | None = None
        self.referral: Referral | None = None

    # --- the steps
    def plan(self) -> None:
        self.track = workflow_ops.plan_service(
            self.case.id,
            self.victim.id,
            self.partner.service,
            provider=self.agency,
            target_date=None,
            actor=self.people[SUPERVISOR],
            expected_version=self.case.version,
        )
        if self.host.kind == "berjalan":
            case_ops.add_attachment(
                self.case,
                "genogram-keluarga.png",
                genogram_png(),
                actor=self.sender,
                description="Genogram keluarga dari asesmen biopsikososial.",
            )

    def send(self) -> None:
        assert self.track is not None
        attachments: tuple[int, ...] = ()
        if self.host.kind in ("diterima", "berjalan", "selesai"):
            letter = case_ops.add_attachment(
                self.case,
                f"surat-rujukan-{self.partner.code.lower()}.pdf",
                letter_pdf(
                    [
                        f"UPTD PPA Kota Bandung - Surat Rujukan {self.case.reference}",
                        f"Kepada: {self.agency.name}",
                        f"Layanan: {self.partner.service.value}",
                        self.partner.message,
                    ]
                ),
                actor=self.sender,
                description=f"Surat pengantar rujukan ke {self.agency.name}.",
            )
            attachments = (letter.id,)
        self.referral = referral_ops.save_referral(
            self.track.id,
            to_agency=self.agency,
            sharing=referral_ops.Sharing(
                identity=self.partner.identity,
                incident=True,
                assessment=self.partner.assessment,
                attachment_ids=attachments,
                # the sender keeps the form's first draft: facts about this victim, never the
                # case's chronology
                incident_summary=referral_queries.suggested_summary(self.track),
            ),
            message=self.partner.message,
            actor=self.sender,
            send=True,
            consent_now=self._consent(),
            expected_version=self.track.version,
        )

    def _consent(self) -> referral_ops.ConsentNow:
        """The victim agrees on the referral form; for a child, a guardian who is not an alleged
        perpetrator."""
        guardians = [g for g in self.victim.guardians if g.perpetrator_id is None]
        if self.victim.is_child and guardians:
            return referral_ops.ConsentNow("wali", guardians[0].name)
        return referral_ops.ConsentNow("korban")

    def _id(self) -> int:
        assert self.referral is not None
        return self.referral.id

    def _version(self) -> int:
        """The referral's version as the person acting would see it on the page."""
        assert self.referral is not None
        return self.referral.version

    def opened(self) -> None:
        assert self.referral is not None
        referral_ops.record_opened(self.referral, actor=self.receiver)

    def accept(self) -> None:
        referral_ops.accept_referral(
            self._id(), actor=self.receiver, expected_version=self._version()
        )

    def start(self) -> None:
        referral_ops.start_referral(
            self._id(), actor=self.receiver, expected_version=self._version()
        )

    def progress(self) -> None:
        referral_ops.add_progress_note(self._id(), self.partner.progress, actor=self.receiver)

    def reply(self) -> None:
        referral_ops.add_progress_note(self._id(), self.partner.reply, actor=self.sender)

    def complete(self) -> None:
        referral_ops.complete_referral(
            self._id(), self.partner.outcome, actor=self.receiver, expected_version=self._version()
        )

    def decline(self) -> None:
        referral_ops.decline_referral(
            self._id(), self.partner.declined, actor=self.receiver, expected_version=self._version()
        )

    def withdraw(self) -> None:
        referral_ops.withdraw_referral(
            self._id(), self.partner.withdrawn, actor=self.sender, expected_version=self._version()
        )

    def note(self) -> None:
        name = self.agency.name
        body = {
            "berjalan": f"Koordinasi dengan {name}: layanan berjalan, korban hadir sesuai jadwal.",
            "selesai": f"Layanan oleh {name} selesai; hasilnya dibahas bersama korban.",
            "ditolak": f"Rujukan ke {name} ditolak; layanan akan dirujuk ke penyedia lain.",
        }[self.host.kind]
        case_ops.add_note(self.case, body, actor=self.sender)

    # --- when
    def steps(self, now: dt.datetime) -> list[Step]:
        i, kind = self.index, self.host.kind
        if kind == "baru":
            sent = now - HOUR - i * dt.timedelta(minutes=35)
            return [(sent - 2 * HOUR, self.plan), (sent, self.send)]
        sent = self._sent(now)
        plan = (sent - DAY, self.plan)
        after: dict[str, list[tuple[dt.timedelta, Callable[[], None]]]] = {
            "terlambat": [(3 * HOUR, self.opened)],
            "diterima": [(1.5 * HOUR, self.opened), (3.5 * HOUR, self.accept)],
            "ditolak": [(2 * HOUR, self.opened), (5 * HOUR, self.decline), (DAY, self.note)],
            "ditarik": [(20 * HOUR, self.withdraw)],
        }
        if kind in after:
            return [plan, (sent, self.send), *((sent + d, step) for d, step in after[kind])]
        if kind == "berjalan":
            # answered late (the deadline is missed, though met in the end), in progress since
            # some days, the latest notes yesterday
            started = self._started(now)
            return [
                plan,
                (sent, self.send),
                (sent + HOUR, self.opened),
                (started - 22 * HOUR, self.accept),
                (started, self.start),
                (at_day(now, 2, 14 + 0.5 * i), self.progress),
                (at_day(now, 1, 10 + 0.5 * i), self.reply),
                (at_day(now, 1, 11 + 0.5 * i), self.note),
            ]
        completed = at_day(now, 9, 14 + 0.3 * i)
        return [
            plan,
            (sent, self.send),
            (sent + HOUR, self.opened),
            (sent + 6 * HOUR, self.accept),
            (sent + DAY, self.start),
            (sent + 6 * DAY, self.progress),
            (completed, self.complete),
            (completed + 2 * HOUR, self.note),
        ]

    def _answer_due(self, sent: dt.datetime) -> dt.datetime:
        return effective_rule(DeadlineCode.REFERRAL_RESPONSE, self.agency).due_from(sent)

    def _started(self, now: dt.datetime) -> dt.datetime:
        return at_day(now, 5, 9 + 0.5 * self.index)

    def _sent(self, now: dt.datetime) -> dt.datetime:
        i = self.index
        days, hour = {
            "terlambat": (5, 9 + 0.75 * i),
            "diterima": (3, 8.5 + i),
            "berjalan": (9, 9 + 0.5 * i),
            "selesai": (36, 10 + 0.5 * i),
            "ditolak": (9, 9 + 0.5 * i),
            "ditarik": (6, 10 + 0.5 * i),
        }[self.host.kind]
        sent = at_day(now, days, hour)
        # far enough back, whatever weekends and holidays lie in between, that the answer is
        # overdue past the escalation grace (terlambat), or was given after its due time
        # (berjalan: accepted 22 hours before the service started)
        late_by = {"terlambat": ESCALATION_GRACE + HOUR, "berjalan": 25 * HOUR}
        if self.host.kind in late_by:
            answered = now if self.host.kind == "terlambat" else self._started(now)
            while self._answer_due(sent) + late_by[self.host.kind] > answered:
                sent -= DAY
        return sent


def load_referrals(
    report: Any, records: list[dict[str, Any]], people: People, now: dt.datetime
) -> None:
    for host in referral_hosts(records):
        case = _case(OWNER, host.external_id)
        assert case is not None, host.external_id
        victim = case.victims[host.position - 1]
        exists = db.session.scalar(
            select(ServiceTrack.id).where(
                ServiceTrack.victim_id == victim.id,
                ServiceTrack.service_type == host.partner.service,
            )
        )
        if exists is not None:
            report.add("referral", "unchanged")
            continue
        story = ReferralStory(host, PARTNERS.index(host.partner), case, victim, people)
        replay(story.steps(now))
        report.add("referral", "created")


# --- transfers -----------------------------------------------------------------------------------

TRANSFER_REASON = (
    "Korban dan keluarganya berdomisili di Kota Bandung; penanganan lanjutan menjadi kewenangan "
    "UPTD PPA Kota Bandung."
)
EARLY_STATES = ("diterima", "identifikasi", "asesmen")


def transfer_sources(records: list[dict[str, Any]]) -> list[str]:
    """Two open cases of the province's UPTD PPA, still before the assessment and within the
    competence of the kab/kota: the first is transferred to the city, the second awaits."""
    found = [
        r["external_id"]
        for r in records
        if r["agency"] == PROVINCE_OWNER
        and r["status"] in EARLY_STATES
        and r.get("kewenangan", "kabkota") == "kabkota"
    ]
    return found[:2]


def load_transfers(
    report: Any, records: list[dict[str, Any]], people: People, now: dt.datetime
) -> None:
    city = _agency(OWNER)
    for accepted, external_id in zip((True, False), transfer_sources(records), strict=False):
        case = _case(PROVINCE_OWNER, external_id)
        assert case is not None, external_id
        if db.session.scalar(select(CaseTransfer.id).where(CaseTransfer.case_id == case.id)):
            report.add("transfer", "unchanged")
            continue
        asked: list[Any] = []

        def request(case: Case = case, asked: list[Any] = asked) -> None:
            asked.append(
                workflow_ops.request_transfer(
                    case.id,
                    city,
                    TRANSFER_REASON,
                    actor=people[PROVINCE_SUPERVISOR],
                    expected_version=case.version,
                )
            )

        if not accepted:
            replay([(now - 5 * HOUR, request)])
            report.add("transfer", "created")
            continue

        def accept(asked: list[Any] = asked) -> None:
            workflow_ops.accept_transfer(
                asked[0].id, actor=people[SUPERVISOR], expected_version=asked[0].version
            )

        def triage(asked: list[Any] = asked) -> None:
            # the city's case manager takes the first step on the new case: first response
            new_case = db.session.get(Case, asked[0].new_case_id)
            assert new_case is not None
            workflow_ops.apply_case_event(
                new_case.id,
                "start_identification",
                actor=people[MANAGER],
                expected_version=new_case.version,
            )

        def visit(asked: list[Any] = asked) -> None:
            new_case = db.session.get(Case, asked[0].new_case_id)
            assert new_case is not None
            case_ops.add_note(
                new_case,
                "Riwayat penanganan UPTD PPA Provinsi sudah dipelajari; penjangkauan ke rumah "
                "korban dijadwalkan bersama pendamping kelurahan.",
                actor=people[MANAGER],
            )

        accepted_at = at_day(now, 2, 9.5)
        replay(
            [
                (at_day(now, 3, 10), request),
                (accepted_at, accept),
                (accepted_at + 0.75 * HOUR, triage),
                (at_day(now, 1, 14), visit),
            ]
        )
        report.add("transfer", "created")


# --- complaints registered by the intake officer -------------------------------------------------


@dataclass(frozen=True)
class Complaint:
    """A complaint the intake officer registers (``registered`` before now) about something
    received ``received`` before now; ``triaged``: the case manager's first step after that."""

    number: int
    received: dt.timedelta
    registered: dt.timedelta
    build: Callable[[random.Random, dt.datetime], Intake]
    triaged: dt.timedelta | None = None


def _woman(rng: random.Random, age: int, **extra: Any) -> VictimData:
    return VictimData(
        sex="P",
        name=f"{rng.choice(WOMEN)} {rng.choice(FAMILY)}",
        age=age,
        nationality="WNI",
        domicile_region_code="32.73.02",
        **extra,
    )


def _husband(rng: random.Random, age: int) -> PerpetratorData:
    return PerpetratorData(
        name=f"{rng.choice(MEN)} {rng.choice(FAMILY)}",
        sex="L",
        age=age,
        relationships={1: "suami_istri"},
    )


def _at_home(
    rng: random.Random,
    received: dt.datetime,
    *,
    channel: str,
    risk: str,
    days_before: int,
    region: str,
    kronologi: str,
    age: int,
    violence: list[str],
) -> Intake:
    """Violence by the husband at home, the incident ``days_before`` the complaint; complete."""
    return Intake(
        received_at=received,
        channel=channel,
        case_types=["ktp"],
        risk=risk,
        incident_date=(received - days_before * DAY).astimezone(JAKARTA).date(),
        incident_date_precision="hari",
        incident_region_code=region,
        incident_place="rumah_tangga",
        ranah="domestik",
        kronologi=kronologi,
        victims=[_woman(rng, age, violence_types=violence)],
        perpetrators=[_husband(rng, age + 4)],
    )


# By the hotline, tonight: the first response is due soon.
_high_risk = functools.partial(
    _at_home,
    channel="hotline_sapa129",
    risk="tinggi",
    days_before=0,
    region="32.73.05.1002",
    kronologi="Korban menelepon hotline setelah dipukul suami; anak-anak ada di rumah.",
    age=31,
    violence=["fisik", "psikis"],
)
# Low risk — and nobody took it up: its first response is escalated.
_neglect = functools.partial(
    _at_home,
    channel="datang_langsung",
    risk="rendah",
    days_before=10,
    region="32.73.04",
    kronologi="Korban ditinggalkan suami tanpa nafkah selama tiga bulan.",
    age=45,
    violence=["penelantaran", "psikis"],
)


def _school(rng: random.Random, received: dt.datetime) -> Intake:
    """A teacher reports a pupil: neither the date nor the place of the incident is known yet."""
    family = rng.choice(FAMILY)
    return Intake(
        received_at=received,
        channel="pihak_ketiga",
        case_types=["kta"],
        risk="sedang",
        reporter_kind="pihak_ketiga",
        reporter_name="Wali kelas (fiktif)",
        reporter_relation="guru",
        incident_place="lainnya",
        ranah="domestik",
        kronologi="Wali kelas melihat memar di lengan murid dan perubahan perilaku.",
        victims=[
            VictimData(
                sex="L",
                name=f"{rng.choice(MEN)} {family}",
                age=9,
                violence_types=["fisik", "psikis"],
                guardians=[GuardianData(name=f"{rng.choice(WOMEN)} {family}", relation="ibu")],
            )
        ],
    )


def _letter(rng: random.Random, received: dt.datetime) -> Intake:
    """A letter that waited days to be entered; the harassment began some time last month, from
    somewhere the letter does not say."""
    last_month = received.astimezone(JAKARTA).date().replace(day=1) - DAY
    return Intake(
        received_at=received,
        channel="surat_email",
        case_types=["ktp"],
        risk="rendah",
        incident_date=last_month.replace(day=1),
        incident_date_precision="bulan",
        incident_place="daring",
        ranah="daring",
        kronologi="Korban menerima pesan ancaman berulang dari akun anonim di media sosial.",
        victims=[_woman(rng, 24, violence_types=["psikis"])],
    )


def _neighbour(rng: random.Random, received: dt.datetime) -> Intake:
    """A girl and two perpetrators; only one relationship is known so far, and the mother could
    not yet say where it happened."""
    family = rng.choice(FAMILY)
    return Intake(
        received_at=received,
        channel="datang_langsung",
        case_types=["kta", "tpks"],
        risk="sedang",
        reporter_kind="pihak_ketiga",
        reporter_name=f"{rng.choice(WOMEN)} {family}",
        reporter_relation="ibu kandung",
        incident_date=(received - 4 * DAY).astimezone(JAKARTA).date(),
        incident_date_precision="hari",
        incident_place="lainnya",
        ranah="publik",
        kronologi="Ibu korban melaporkan dugaan kekerasan seksual oleh tetangga dan temannya.",
        victims=[
            VictimData(
                sex="P",
                name=f"{rng.choice(WOMEN)} {family}",
                age=15,
                violence_types=["seksual", "psikis"],
                guardians=[GuardianData(name=f"{rng.choice(WOMEN)} {family}", relation="ibu")],
            )
        ],
        perpetrators=[
            PerpetratorData(
                name=f"{rng.choice(MEN)} {rng.choice(FAMILY)}",
                sex="L",
                age=27,
                relationships={1: "tetangga"},
            ),
            PerpetratorData(sex="L"),
        ],
    )


COMPLAINTS: tuple[Complaint, ...] = (
    Complaint(1, 55 * dt.timedelta(minutes=1), 45 * dt.timedelta(minutes=1), _high_risk),
    Complaint(2, 9 * HOUR, 8.75 * HOUR, _school),
    Complaint(3, 6 * DAY, 2 * HOUR, _letter),
    Complaint(4, 2 * DAY + 3 * HOUR, 2 * DAY + 2.75 * HOUR, _neighbour, triaged=1.5 * HOUR),
    Complaint(5, 3 * DAY + 2 * HOUR, 3 * DAY + 1.5 * HOUR, _neglect),
)


def load_complaints(report: Any, people: People, now: dt.datetime) -> None:
    agency = _agency(OWNER)
    rng = random.Random(SEED + 2)
    for complaint in COMPLAINTS:
        intake = complaint.build(rng, now - complaint.received)
        external_id = f"demo-hari-{complaint.number}"
        if _case(OWNER, external_id) is not None:
            report.add("complaint", "unchanged")
            continue
        made: list[Case] = []

        def register(
            intake: Intake = intake, external_id: str = external_id, made: list[Case] = made
        ) -> None:
            made.append(
                registration.register_case(
                    intake, agency=agency, actor=people[INTAKE], external_id=external_id
                )
            )

        steps: list[Step] = [(now - complaint.registered, register)]
        if complaint.triaged is not None:

            def triage(made: list[Case] = made) -> None:
                workflow_ops.apply_case_event(
                    made[0].id,
                    "start_identification",
                    actor=people[MANAGER],
                    expected_version=made[0].version,
                )

            steps.append((now - complaint.registered + complaint.triaged, triage))
        replay(steps)
        report.add("complaint", "created")


# --- follow-ups ----------------------------------------------------------------------------------

# The demo case manager's follow-ups (days from today, note, on a running service or not): one
# overdue, one today, two later this week — so "Tugas saya" and its counters show something.
FOLLOW_UPS: tuple[tuple[int, str | None, bool], ...] = (
    (-1, "Telepon pendamping hukum: jadwal sidang", False),
    (0, "Kunjungan rumah: cek kondisi korban", True),
    (2, None, True),
    (5, "Hubungi sekolah korban", False),
)


def load_follow_ups(report: Any, people: People, now: dt.datetime) -> None:
    """The demo case manager's follow-ups on her running cases, set through the operation (the
    overdue one as if set the day before it was due); skipped when she has any already."""
    manager = people[MANAGER]
    if db.session.scalar(select(FollowUp.id).where(FollowUp.user_id == manager.id).limit(1)):
        report.add("follow-up", "skipped", len(FOLLOW_UPS))
        return
    cases = list(
        db.session.scalars(
            select(Case)
            .where(Case.case_manager_id == manager.id, Case.state.not_in(FOLLOW_UP_ENDED))
            .order_by(Case.id)
            .limit(len(FOLLOW_UPS))
        )
    )
    today = jakarta_today(now)
    for (days, note, on_track), case in zip(FOLLOW_UPS, cases, strict=False):
        track_id = None
        if on_track:
            track_id = db.session.scalar(
                select(ServiceTrack.id)
                .where(ServiceTrack.case_id == case.id, ServiceTrack.ended_at.is_(None))
                .order_by(ServiceTrack.id)
                .limit(1)
            )
        due_on = today + dt.timedelta(days=days)
        schedule_follow_up(
            case,
            actor=manager,
            due_on=due_on,
            note=note,
            track_id=track_id,
            today=min(today, due_on - dt.timedelta(days=1)),
        )
        report.add("follow-up", "created")


# --- the day -------------------------------------------------------------------------------------


def load_demo_day(report: Any, records: list[dict[str, Any]]) -> None:
    """Play the working day (see the module docstring); then, when anything was new, the
    periodic deadline check."""
    now = utcnow()
    people = People()

    def created() -> int:
        return sum(n for key, n in report.counts.items() if key.endswith(" created"))

    before = created()
    load_referrals(report, records, people, now)
    load_transfers(report, records, people, now)
    load_complaints(report, people, now)
    load_follow_ups(report, people, now)
    if created() > before:
        check = utcnow()

        def run_check() -> None:
            report.add("deadline", "missed", mark_missed(check))
            report.add("deadline", "escalated", escalate(check))

        replay([(check, run_check)])
