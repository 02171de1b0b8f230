"""The access matrix (issue #7, item 1): every route and method x role x record scope → outcome.

``TABLE`` has one ``Entry`` per (URL rule, method) of the application (``static`` excepted).
``tests/security/test_access_table.py`` fails when a rule of the URL map is missing here, and
sends one request per cell.

Outcomes
--------
* ``ok`` — the request goes through: a status below 400.
* ``reached`` — the access checks let it through; the form is not filled in completely, so the
  answer may be a validation or business refusal (400, 409, 422), never 401/403/404 nor the sign-in
  page. Used for large forms (intake, admin editors) whose validation is tested elsewhere.
* ``forbidden`` — 403: the role lacks the route's permission (``@requires``).
* ``not_found`` — 404: the role holds the permission, the record is out of its scope
  (need-to-know: never "forbidden", never shown).
* ``login`` — anonymous visitor: a redirect to ``/masuk``.

Every ``forbidden``/``not_found`` cell must also write an ``access.denied`` audit entry and change
nothing else.

Scopes (the acting user works at agency A; every role is granted at A — the Sub GT coordinator
through a Sub GT of A's region that has A as member)
----------------------------------------------------------------------------------------------
* ``own`` — the user's own case: the one the case manager (``manajer_kasus``) manages; for the
  intake officer (``petugas_pengaduan``) a complaint they registered that has no case manager yet;
  for every other role the case-manager's case of agency A. For non-case records: a record of A
  (or A's region).
* ``same_agency`` — a case of A managed by a colleague (registered by another intake officer).
* ``referred_to`` — a case of agency B that referred a service (rehabilitasi sosial) to A, with
  identity, incident, assessment and one attachment shared. It also carries a transfer
  (pelimpahan) request addressed to A. Only the referral-receiving routes, the transfer answer and
  the Sub GT (A is the provider) may open anything of it.
* ``unrelated`` — a case of agency C (it referred a service to B, and asks B to take a case over).
* ``anonymous`` — nobody signed in: one cell per route.

Every case bundle holds: the case (at the assessment stage), its victim, an attachment, a note, a
service track referred to another agency (with the referral), a planned track, and a second case
with a pending transfer request. Routes without a record have one cell per role.

Defaults per route, exceptions explicit: ``Entry.visible`` names, per role holding the
permission, the scopes where the record is found; every other scope is ``not_found``; a role
without the permission is ``forbidden`` everywhere; ``Entry.exceptions`` overrides single cells.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.enums import AssessmentArea, Role, ServiceType
from app.core.permissions import AUTHENTICATED, PUBLIC
from tests.factories.files import png_bytes

OK = "ok"
REACHED = "reached"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
LOGIN = "login"
DENIED = frozenset({FORBIDDEN, NOT_FOUND})

ROLES: tuple[Role, ...] = tuple(Role)
SCOPES: tuple[str, ...] = ("own", "same_agency", "referred_to", "unrelated")
ANONYMOUS = "anonymous"

R = Role

# --- scope presets (which scopes a role holding the permission finds) ----------------------------

CASE_SCOPE: Mapping[Role, frozenset[str]] = {
    R.PETUGAS_PENGADUAN: frozenset({"own"}),
    R.MANAJER_KASUS: frozenset({"own"}),
    R.SUPERVISOR: frozenset({"own", "same_agency"}),
}
"""``app.cases.queries.scope_condition``: the supervisor sees the agency's cases, the case
manager their own, the intake officer their unassigned registrations."""

AGENCY_CASES: Mapping[Role, frozenset[str]] = {
    R.SUPERVISOR: frozenset({"own", "same_agency"}),
    R.ANALIS_DATA: frozenset({"own", "same_agency"}),
}
"""Data quality: every registered case of the reviewer's agency."""

RECEIVED: Mapping[Role, frozenset[str]] = {R.PETUGAS_LAYANAN: frozenset({"referred_to"})}
"""Referrals addressed to the user's agency (``referral_for_receiver``)."""

INCOMING_TRANSFER: Mapping[Role, frozenset[str]] = {R.SUPERVISOR: frozenset({"referred_to"})}
"""A transfer request addressed to the supervisor's agency; the sender never answers it."""

SUBGT_BOARD: Mapping[Role, frozenset[str]] = {
    R.KOORDINATOR_SUBGT: frozenset({"own", "same_agency", "referred_to"})
}
"""Tracks of the Sub GT's services whose case agency or provider is a member (A): A's cases, and
B's track provided by A; C's track (provided by B) is not on the board."""

REGION: Mapping[Role, frozenset[str]] = {
    R.ANALIS_DATA: frozenset({"own"}),
    R.PIMPINAN: frozenset({"own"}),
}
"""Report jobs of the user's region (or asked for by the user)."""

REGION_MANAGE: Mapping[Role, frozenset[str]] = {R.ANALIS_DATA: frozenset({"own"})}

FOLLOW_UP_OWNER: Mapping[Role, frozenset[str]] = {
    R.MANAJER_KASUS: frozenset({"own"}),
    R.PETUGAS_PENGADUAN: frozenset({"own"}),
}
"""A follow-up is found by the user who set it only (the case manager's on their case, the intake
officer's on their unassigned complaint), on a case they still see."""

EVERYONE: Mapping[Role, frozenset[str]] = {role: frozenset(SCOPES) for role in ROLES}


Cell = tuple[Role, str]  # (role, scope); scope None-like "-" for routes without a record
Url = Callable[[Any, str, Role], str]
Data = Callable[[Any, str, Role], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    rule: str
    method: str
    permission: str  # what the view's @requires / @public declares
    url: Url
    data: Data | None = None
    scopes: tuple[str, ...] = ()  # () : the route has no record (one cell per role)
    visible: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    allowed: str = OK  # the outcome of a cell that passes the access checks (OK or REACHED)
    exceptions: Mapping[Cell, str] = field(default_factory=dict)
    why: str = ""  # a note on the exceptions
    to_sign_in: bool = False  # a redirect to /masuk is this route's own answer (signed out)

    def cells(self) -> list[tuple[Role | None, str]]:
        """(role, scope) pairs; role None is the anonymous visitor."""
        found: list[tuple[Role | None, str]] = []
        for role in ROLES:
            for scope in self.scopes or ("-",):
                found.append((role, scope))
        found.append((None, ANONYMOUS))
        return found

    def expected(self, role: Role | None, scope: str) -> str:
        from app.core.permissions import ROLE_PERMISSIONS

        if role is None:
            return self.allowed if self.permission == PUBLIC else LOGIN
        if (role, scope) in self.exceptions:
            return self.exceptions[(role, scope)]
        holds = self.permission in (PUBLIC, AUTHENTICATED) or (
            self.permission in ROLE_PERMISSIONS[role]
        )
        if not holds:
            return FORBIDDEN
        if not self.scopes:
            return self.allowed
        return self.allowed if scope in self.visible.get(role, frozenset()) else NOT_FOUND


# --- URL and form builders (``w`` is the world of the test module) ---------------------------


def fixed(path: str) -> Url:
    return lambda w, scope, role: path


def case_url(suffix: str = "", *, bundle: str = "case") -> Url:
    """``/kasus/<case>`` + suffix, formatted with the scope's bundle (``{b.victim.id}`` …)."""

    def build(w: Any, scope: str, role: Role) -> str:
        b = w.bundle(scope, role)
        return f"/kasus/{getattr(b, bundle).id}" + suffix.format(b=b)

    return build


def bundle_url(template: str) -> Url:
    def build(w: Any, scope: str, role: Role) -> str:
        return template.format(b=w.bundle(scope, role))

    return build


def world_url(template: str) -> Url:
    return lambda w, scope, role: template.format(w=w)


def version_of(attribute: str) -> Data:
    def build(w: Any, scope: str, role: Role) -> dict[str, Any]:
        return {"version": str(getattr(w.bundle(scope, role), attribute).version)}

    return build


REASON = "Korban pindah domisili ke wilayah lembaga lain."
PNG = png_bytes()


def _assessment(w: Any, scope: str, role: Role) -> dict[str, Any]:
    data = {"version": "", "summary": "Ringkasan asesmen.", "complete": "y"}
    for area in AssessmentArea:
        data[f"{area.value}-level"] = "rendah"
        data[f"{area.value}-needs"] = ""
        data[f"{area.value}-risks"] = ""
    return data


def _consent(w: Any, scope: str, role: Role) -> dict[str, Any]:
    prefix = f"consent{w.bundle(scope, role).victim.id}"
    return {
        f"{prefix}-purpose": "dokumentasi",
        f"{prefix}-decision": "setuju",
        f"{prefix}-given_by": "korban",
        f"{prefix}-at": "2025-03-14T10:00",
    }


def _upload(w: Any, scope: str, role: Role) -> dict[str, Any]:
    return {"file": (io.BytesIO(w.png), "foto.png")}


def _plan(w: Any, scope: str, role: Role) -> dict[str, Any]:
    b = w.bundle(scope, role)
    return {
        "version": str(b.case.version),
        "victim": str(b.victim.id),
        "service_type": ServiceType.PENDAMPINGAN.value,
        "provider": "",
        "target_date": "",
    }


def _decline_track(w: Any, scope: str, role: Role) -> dict[str, Any]:
    return {
        "version": str(w.bundle(scope, role).planned.version),
        "given_by": "korban",
        "given_by_name": "",
        "reason": "",
    }


def _request_transfer(w: Any, scope: str, role: Role) -> dict[str, Any]:
    b = w.bundle(scope, role)
    return {"version": str(b.case.version), "to_agency": str(w.c.id), "reason": REASON}


def _assign(w: Any, scope: str, role: Role) -> dict[str, Any]:
    b = w.bundle(scope, role)
    return {"version": str(b.case.version), "case_manager": str(w.colleague_manager.id)}


def _refer_draft(w: Any, scope: str, role: Role) -> dict[str, Any]:
    b = w.bundle(scope, role)
    target = w.c if b.case.agency_id != w.c.id else w.b
    return {
        "version": str(b.planned.version),  # the track's, as the referral form renders it
        "draft_version": "",  # the form shows no draft yet
        "to_agency": str(target.id),
        "message": "Mohon layanan.",
        "action": "draft",
    }


def _withdraw_referral(w: Any, scope: str, role: Role) -> dict[str, Any]:
    return {"version": str(w.bundle(scope, role).referral.version), "reason": REASON}


def _answer_transfer(w: Any, scope: str, role: Role) -> dict[str, Any]:
    return {"version": str(w.bundle(scope, role).transfer.version), "decision_reason": ""}


def _note(w: Any, scope: str, role: Role) -> dict[str, Any]:
    return {"note": "Catatan perkembangan."}


def _body(w: Any, scope: str, role: Role) -> dict[str, Any]:
    return {"body": "Catatan koordinasi."}


def _nothing(w: Any, scope: str, role: Role) -> dict[str, Any]:
    return {}


VIEW = "cases:view_own"
MANAGE = "cases:manage"
SUPERVISE = "cases:supervise"
CREATE = "cases:create"
RECEIVE = "referrals:receive"
REVIEW = "subgt:review"
QUALITY = "quality:review"
IND_VIEW = "indicators:view"
IND_MANAGE = "indicators:manage"
CLOSE = "periods:close"

PRIVACY = "/kasus/<int:case_id>/korban/<int:victim_id>/hak-subjek"
NO_TRACK_FOR_INTAKE = {(R.PETUGAS_PENGADUAN, "own"): NOT_FOUND}
NO_TRACK_WHY = (
    "the intake officer's own case is an unassigned complaint without service tracks: the "
    "track id (of the case manager's case) is not found on it"
)


def _today() -> Any:
    from app.tasks.calendar import jakarta_today

    return jakarta_today()


def _case_entry(rule: str, method: str, permission: str, url: Url, **kw: Any) -> Entry:
    kw.setdefault("visible", CASE_SCOPE)
    return Entry(rule, method, permission, url, scopes=SCOPES, **kw)


def _plain(rule: str, method: str, permission: str, **kw: Any) -> Entry:
    return Entry(rule, method, permission, kw.pop("url", fixed(rule)), **kw)


def _admin(rule: str, method: str, permission: str, url: Url, **kw: Any) -> Entry:
    """Admin pages are not scoped to the administrator's agency (the record used is C's)."""
    kw.setdefault("allowed", OK if method == "GET" else REACHED)
    return Entry(rule, method, permission, url, **kw)


ENTRIES: list[Entry] = [
    # --- public and account ---------------------------------------------------------------
    _plain("/", "GET", PUBLIC, to_sign_in=True),
    _plain("/healthz", "GET", PUBLIC),
    _plain("/masuk", "GET", PUBLIC),
    _plain("/masuk", "POST", PUBLIC, data=_nothing, allowed=REACHED),
    _plain("/masuk/kode", "GET", PUBLIC, to_sign_in=True),
    _plain("/masuk/kode", "POST", PUBLIC, data=_nothing, allowed=REACHED, to_sign_in=True),
    _plain("/bahasa", "POST", PUBLIC, data=lambda w, s, r: {"locale": "en"}),
    _plain("/masuk/ulang", "GET", AUTHENTICATED),
    _plain("/masuk/ulang", "POST", AUTHENTICATED, data=_nothing, allowed=REACHED),
    _plain("/keluar", "POST", AUTHENTICATED, data=_nothing, to_sign_in=True),
    _plain("/beranda", "GET", AUTHENTICATED),
    _plain("/bantuan/alur-kasus", "GET", AUTHENTICATED),
    _plain("/akun", "GET", AUTHENTICATED),
    _plain("/akun", "POST", AUTHENTICATED, data=_nothing, allowed=REACHED),
    _plain("/akun/kata-sandi", "POST", AUTHENTICATED, data=_nothing, allowed=REACHED),
    _plain("/notifikasi", "GET", AUTHENTICATED),
    _plain("/notifikasi/dibaca", "POST", AUTHENTICATED, data=_nothing),
    _plain("/profil/2fa", "GET", AUTHENTICATED),
    *(
        _plain(f"/profil/2fa/{step}", "POST", AUTHENTICATED, data=_nothing, allowed=REACHED)
        for step in ("kode-pemulihan", "konfirmasi", "mulai-ulang", "nonaktifkan")
    ),
    # --- cases ----------------------------------------------------------------------------
    # the agency search of the case page's forms: the agency directory, no record of a case
    _plain("/lembaga/cari", "GET", MANAGE, url=fixed("/lembaga/cari?q=Lembaga")),
    _plain("/kasus", "GET", VIEW),
    _plain("/kasus/baru", "GET", CREATE),
    _plain("/kasus/baru", "POST", CREATE, data=_nothing, allowed=REACHED),
    _plain("/kasus/cepat", "GET", CREATE),
    _plain("/kasus/cepat", "POST", CREATE, data=_nothing, allowed=REACHED),
    _case_entry("/kasus/<int:case_id>", "GET", VIEW, case_url()),
    _case_entry("/kasus/<int:case_id>/ubah", "GET", VIEW, case_url("/ubah")),
    _case_entry(
        "/kasus/<int:case_id>/ubah",
        "POST",
        VIEW,
        case_url("/ubah"),
        data=_nothing,
        allowed=REACHED,
    ),
    _case_entry(
        "/kasus/<int:case_id>/catatan",
        "POST",
        VIEW,
        case_url("/catatan"),
        data=lambda w, s, r: {"body": "Catatan kasus."},
    ),
    _case_entry("/kasus/<int:case_id>/lampiran", "POST", VIEW, case_url("/lampiran"), data=_upload),
    _case_entry(
        "/kasus/<int:case_id>/lampiran/<int:attachment_id>",
        "GET",
        VIEW,
        case_url("/lampiran/{b.attachment.id}"),
    ),
    _case_entry(
        "/kasus/<int:case_id>/korban/<int:victim_id>/identitas",
        "POST",
        VIEW,
        case_url("/korban/{b.victim.id}/identitas"),
        data=_nothing,
    ),
    # the printable case summary: the form, and the PDF (a recent sign-in: ``login_as``)
    _case_entry("/kasus/<int:case_id>/ringkasan", "GET", VIEW, case_url("/ringkasan")),
    _case_entry(
        "/kasus/<int:case_id>/ringkasan",
        "POST",
        VIEW,
        case_url("/ringkasan"),
        data=lambda w, s, r: {"sections": ["kronologi"]},
    ),
    _case_entry(
        "/kasus/<int:case_id>/korban/<int:victim_id>/persetujuan",
        "POST",
        VIEW,
        case_url("/korban/{b.victim.id}/persetujuan"),
        data=_consent,
    ),
    _case_entry(
        "/kasus/<int:case_id>/korban/<int:victim_id>/asesmen",
        "GET",
        VIEW,
        case_url("/korban/{b.victim.id}/asesmen"),
    ),
    _case_entry(
        "/kasus/<int:case_id>/korban/<int:victim_id>/asesmen",
        "POST",
        VIEW,
        case_url("/korban/{b.victim.id}/asesmen"),
        data=_assessment,
        allowed=REACHED,
        exceptions={(R.PETUGAS_PENGADUAN, "own"): NOT_FOUND},
        why="the intake officer's unassigned complaint is not at the assessment stage: saving "
        "an assessment on it is answered 404 (opening the page is allowed)",
    ),
    _case_entry(
        "/kasus/<int:case_id>/langkah/<event>",
        "POST",
        VIEW,
        case_url("/langkah/close"),
        data=lambda w, s, r: {
            "version": str(w.bundle(s, r).case.version),
            "closure_kind": "lainnya",
            "reason": "Ditutup untuk uji matriks akses.",
        },
        allowed=REACHED,
        why="closing needs a supervisor; the workflow answers the others with a refusal",
    ),
    _case_entry(
        "/kasus/<int:case_id>/rencana",
        "POST",
        VIEW,
        case_url("/rencana"),
        data=_plan,
        allowed=REACHED,
    ),
    _case_entry(
        "/kasus/<int:case_id>/layanan/<int:track_id>/<event>",
        "POST",
        VIEW,
        case_url("/layanan/{b.planned.id}/decline_by_victim"),
        data=_decline_track,
        allowed=REACHED,
        exceptions=NO_TRACK_FOR_INTAKE,
        why=NO_TRACK_WHY,
    ),
    _case_entry(
        "/kasus/<int:case_id>/pelimpahan",
        "POST",
        MANAGE,
        case_url("/pelimpahan"),
        data=_request_transfer,
    ),
    _case_entry(
        "/kasus/<int:case_id>/pelimpahan/<int:transfer_id>/tarik",
        "POST",
        MANAGE,
        case_url("/pelimpahan/{b.transfer.id}/tarik", bundle="moving"),
        data=version_of("transfer"),
    ),
    _case_entry(
        "/kasus/<int:case_id>/manajer", "POST", SUPERVISE, case_url("/manajer"), data=_assign
    ),
    _case_entry("/kasus/<int:case_id>/akses", "GET", SUPERVISE, case_url("/akses")),
    _case_entry(
        "/kasus/<int:case_id>/layanan/<int:track_id>/rujukan",
        "POST",
        MANAGE,
        case_url("/layanan/{b.planned.id}/rujukan"),
        data=_refer_draft,
    ),
    _case_entry(
        "/kasus/<int:case_id>/rujukan/<int:referral_id>/tarik",
        "POST",
        MANAGE,
        case_url("/rujukan/{b.referral.id}/tarik"),
        data=_withdraw_referral,
    ),
    _case_entry(
        "/kasus/<int:case_id>/rujukan/<int:referral_id>/catatan",
        "POST",
        MANAGE,
        case_url("/rujukan/{b.referral.id}/catatan"),
        data=_note,
    ),
    _plain("/kasus/cari", "POST", VIEW, data=lambda w, s, r: {"q": "tidak-ada"}, allowed=REACHED),
    # --- "Tugas saya": the list is everyone's own; a follow-up is its owner's alone ----------
    _plain("/tugas", "GET", AUTHENTICATED),
    _case_entry(
        "/kasus/<int:case_id>/tindak-lanjut",
        "POST",
        VIEW,
        case_url("/tindak-lanjut"),
        data=lambda w, s, r: {"due_on": _today().isoformat(), "note": "Telepon pendamping."},
    ),
    *(
        Entry(
            f"/tindak-lanjut/<int:follow_up_id>/{step}",
            "POST",
            VIEW,
            bundle_url(f"/tindak-lanjut/{{b.follow_up.id}}/{step}"),
            data=version_of("follow_up"),
            scopes=SCOPES,
            visible=FOLLOW_UP_OWNER,
        )
        for step in ("selesai", "batal")
    ),
    # --- break-the-glass: asking is open to every case role; a grant is tested in tests/breakglass
    _plain("/akses-darurat", "GET", VIEW),
    _plain("/akses-darurat", "POST", VIEW, data=_nothing, allowed=REACHED),
    _plain("/akses-darurat/tinjauan", "GET", SUPERVISE),
    # --- data-subject rights (a supervisor of the case's agency) ------------------------
    _case_entry(
        PRIVACY,
        "GET",
        SUPERVISE,
        case_url("/korban/{b.victim.id}/hak-subjek"),
    ),
    _case_entry(
        PRIVACY,
        "POST",
        SUPERVISE,
        case_url("/korban/{b.victim.id}/hak-subjek"),
        data=_nothing,
        allowed=REACHED,
    ),
    _case_entry(
        PRIVACY + "/cabut-pembatasan",
        "POST",
        SUPERVISE,
        case_url("/korban/{b.victim.id}/hak-subjek/cabut-pembatasan"),
        data=_nothing,
        allowed=REACHED,
    ),
    *(
        _case_entry(
            PRIVACY + f"/<int:request_id>/{step}",
            "POST",
            SUPERVISE,
            case_url("/korban/{b.victim.id}/hak-subjek/{b.privacy_request.id}/" + step),
            data=_nothing,
            allowed=REACHED,
        )
        for step in ("batasi", "ekspor", "hapus", "tolak")
    ),
    # --- transfers (pelimpahan) -----------------------------------------------------------
    _plain("/pelimpahan", "GET", SUPERVISE),
    Entry(
        "/pelimpahan/<int:transfer_id>/<answer>",
        "POST",
        SUPERVISE,
        bundle_url("/pelimpahan/{b.transfer.id}/terima"),
        data=_answer_transfer,
        scopes=SCOPES,
        visible=INCOMING_TRANSFER,
    ),
    # --- referrals, the receiving side ----------------------------------------------------
    _plain("/rujukan", "GET", RECEIVE),
    Entry(
        "/rujukan/<int:referral_id>",
        "GET",
        RECEIVE,
        bundle_url("/rujukan/{b.referral.id}"),
        scopes=SCOPES,
        visible=RECEIVED,
    ),
    Entry(
        "/rujukan/<int:referral_id>/<step>",
        "POST",
        RECEIVE,
        bundle_url("/rujukan/{b.referral.id}/terima"),
        data=version_of("referral"),
        scopes=SCOPES,
        visible=RECEIVED,
    ),
    Entry(
        "/rujukan/<int:referral_id>/catatan",
        "POST",
        RECEIVE,
        bundle_url("/rujukan/{b.referral.id}/catatan"),
        data=_note,
        scopes=SCOPES,
        visible=RECEIVED,
    ),
    Entry(
        "/rujukan/<int:referral_id>/lampiran/<int:attachment_id>",
        "GET",
        RECEIVE,
        bundle_url("/rujukan/{b.referral.id}/lampiran/{b.attachment.id}"),
        scopes=SCOPES,
        visible=RECEIVED,
    ),
    # --- Sub GT ---------------------------------------------------------------------------
    _plain("/subgt", "GET", REVIEW),
    Entry(
        "/subgt/layanan/<int:track_id>",
        "GET",
        REVIEW,
        bundle_url("/subgt/layanan/{b.referred.id}"),
        scopes=SCOPES,
        visible=SUBGT_BOARD,
    ),
    Entry(
        "/subgt/layanan/<int:track_id>/catatan",
        "POST",
        REVIEW,
        bundle_url("/subgt/layanan/{b.referred.id}/catatan"),
        data=_body,
        scopes=SCOPES,
        visible=SUBGT_BOARD,
    ),
    # --- data quality ---------------------------------------------------------------------
    _plain("/kualitas-data", "GET", QUALITY),
    Entry(
        "/kualitas-data/<int:case_id>/verifikasi",
        "POST",
        QUALITY,
        bundle_url("/kualitas-data/{b.case.id}/verifikasi"),
        data=version_of("case"),
        scopes=SCOPES,
        visible=AGENCY_CASES,
        allowed=REACHED,
        why="a case with data-quality issues cannot be verified: the queue answers 4xx",
    ),
    # --- indicators -----------------------------------------------------------------------
    _plain("/indikator", "GET", IND_VIEW),
    _plain("/indikator/<code>", "GET", IND_VIEW, url=world_url("/indikator/{w.indicator_code}")),
    _plain("/indikator/laporan", "GET", IND_VIEW),
    _plain("/indikator/laporan", "POST", IND_VIEW, data=_nothing, allowed=REACHED),
    Entry(
        "/indikator/laporan/<int:job_id>",
        "GET",
        IND_VIEW,
        lambda w, s, r: f"/indikator/laporan/{w.report_jobs[s].id}",
        scopes=("own", "unrelated"),
        visible=REGION,
    ),
    Entry(
        "/indikator/laporan/<int:job_id>.json",
        "GET",
        IND_VIEW,
        lambda w, s, r: f"/indikator/laporan/{w.report_jobs[s].id}.json",
        scopes=("own", "unrelated"),
        visible=REGION,
    ),
    Entry(
        "/indikator/laporan/<int:job_id>/unduh",
        "GET",
        IND_VIEW,
        lambda w, s, r: f"/indikator/laporan/{w.report_jobs[s].id}/unduh",
        scopes=("own", "unrelated"),
        visible=REGION,
        exceptions={(R.ANALIS_DATA, "own"): NOT_FOUND, (R.PIMPINAN, "own"): NOT_FOUND},
        why="the job is still queued: its file does not exist yet (404 for everyone); the "
        "download of a finished job is tested in tests/indicators",
    ),
    Entry(
        "/indikator/laporan/<int:job_id>/ulangi",
        "POST",
        IND_VIEW,
        lambda w, s, r: f"/indikator/laporan/{w.report_jobs[s].id}/ulangi",
        data=_nothing,
        scopes=("own", "unrelated"),
        visible=REGION,
        allowed=REACHED,
    ),
    Entry(
        "/indikator/pekerjaan/<int:job_id>",
        "GET",
        IND_MANAGE,
        lambda w, s, r: f"/indikator/pekerjaan/{w.rollup_jobs[s].id}",
        scopes=("own", "unrelated"),
        visible=REGION_MANAGE,
    ),
    Entry(
        "/indikator/pekerjaan/<int:job_id>.json",
        "GET",
        IND_MANAGE,
        lambda w, s, r: f"/indikator/pekerjaan/{w.rollup_jobs[s].id}.json",
        scopes=("own", "unrelated"),
        visible=REGION_MANAGE,
    ),
    Entry(
        "/indikator/pekerjaan/<int:job_id>/ulangi",
        "POST",
        IND_MANAGE,
        lambda w, s, r: f"/indikator/pekerjaan/{w.rollup_jobs[s].id}/ulangi",
        data=_nothing,
        scopes=("own", "unrelated"),
        visible=REGION_MANAGE,
        allowed=REACHED,
    ),
    _plain("/indikator/rollup", "POST", IND_MANAGE, data=_nothing, allowed=REACHED),
    _plain("/indikator/target", "GET", IND_MANAGE),
    _plain("/indikator/target", "POST", IND_MANAGE, data=_nothing, allowed=REACHED),
    _plain("/indikator/target/unggah", "POST", IND_MANAGE, data=_nothing, allowed=REACHED),
    _plain("/indikator/tutup", "GET", CLOSE, allowed=REACHED),  # 400 without ?period=
    _plain("/indikator/tutup", "POST", CLOSE, data=_nothing, allowed=REACHED),
    # --- administration (not scoped to the administrator's agency) -----------------------
    _admin("/admin/wilayah", "GET", "regions:manage", fixed("/admin/wilayah")),
    _admin("/admin/wilayah/baru", "GET", "regions:manage", fixed("/admin/wilayah/baru")),
    _admin(
        "/admin/wilayah/baru", "POST", "regions:manage", fixed("/admin/wilayah/baru"), data=_nothing
    ),
    _admin(
        "/admin/wilayah/<int:region_id>",
        "GET",
        "regions:manage",
        world_url("/admin/wilayah/{w.c.region_id}"),
    ),
    _admin(
        "/admin/wilayah/<int:region_id>",
        "POST",
        "regions:manage",
        world_url("/admin/wilayah/{w.c.region_id}"),
        data=_nothing,
    ),
    _admin("/admin/lembaga", "GET", "agencies:manage", fixed("/admin/lembaga")),
    _admin("/admin/lembaga/baru", "GET", "agencies:manage", fixed("/admin/lembaga/baru")),
    _admin(
        "/admin/lembaga/baru",
        "POST",
        "agencies:manage",
        fixed("/admin/lembaga/baru"),
        data=_nothing,
    ),
    _admin(
        "/admin/lembaga/<int:agency_id>",
        "GET",
        "agencies:manage",
        world_url("/admin/lembaga/{w.c.id}"),
    ),
    _admin(
        "/admin/lembaga/<int:agency_id>/ubah",
        "GET",
        "agencies:manage",
        world_url("/admin/lembaga/{w.c.id}/ubah"),
    ),
    _admin(
        "/admin/lembaga/<int:agency_id>/ubah",
        "POST",
        "agencies:manage",
        world_url("/admin/lembaga/{w.c.id}/ubah"),
        data=_nothing,
    ),
    _admin("/admin/gugus-tugas", "GET", "taskforces:manage", fixed("/admin/gugus-tugas")),
    _admin("/admin/gugus-tugas/baru", "GET", "taskforces:manage", fixed("/admin/gugus-tugas/baru")),
    _admin(
        "/admin/gugus-tugas/baru",
        "POST",
        "taskforces:manage",
        fixed("/admin/gugus-tugas/baru"),
        data=_nothing,
    ),
    _admin(
        "/admin/gugus-tugas/<int:task_force_id>",
        "GET",
        "taskforces:manage",
        world_url("/admin/gugus-tugas/{w.task_force.id}"),
    ),
    _admin(
        "/admin/gugus-tugas/<int:task_force_id>/sub-gugus-tugas/<int:sub_task_force_id>/anggota",
        "POST",
        "taskforces:manage",
        world_url(
            "/admin/gugus-tugas/{w.task_force.id}/sub-gugus-tugas/{w.sub_task_force.id}/anggota"
        ),
        data=lambda w, s, r: {"agency": str(w.c.id)},
    ),
    _admin(
        "/admin/gugus-tugas/<int:task_force_id>/sub-gugus-tugas/<int:sub_task_force_id>/anggota"
        "/hapus",
        "POST",
        "taskforces:manage",
        world_url(
            "/admin/gugus-tugas/{w.task_force.id}/sub-gugus-tugas/{w.sub_task_force.id}"
            "/anggota/hapus"
        ),
        data=lambda w, s, r: {"agency": str(w.a.id)},
    ),
    _admin("/admin/penduduk", "GET", "population:manage", fixed("/admin/penduduk")),
    _admin(
        "/admin/penduduk/<int:population_id>",
        "GET",
        "population:manage",
        world_url("/admin/penduduk/{w.population.id}"),
    ),
    _admin(
        "/admin/penduduk/<int:population_id>",
        "POST",
        "population:manage",
        world_url("/admin/penduduk/{w.population.id}"),
        data=_nothing,
    ),
    _admin(
        "/admin/penduduk/<int:population_id>/hapus",
        "POST",
        "population:manage",
        world_url("/admin/penduduk/{w.population.id}/hapus"),
        data=_nothing,
    ),
    _admin(
        "/admin/penduduk/wilayah/<int:region_id>/baru",
        "GET",
        "population:manage",
        world_url("/admin/penduduk/wilayah/{w.c.region_id}/baru"),
    ),
    _admin(
        "/admin/penduduk/wilayah/<int:region_id>/baru",
        "POST",
        "population:manage",
        world_url("/admin/penduduk/wilayah/{w.c.region_id}/baru"),
        data=_nothing,
    ),
    _admin("/admin/pengguna", "GET", "users:manage", fixed("/admin/pengguna")),
    _admin("/admin/pengguna/baru", "GET", "users:manage", fixed("/admin/pengguna/baru")),
    _admin(
        "/admin/pengguna/baru", "POST", "users:manage", fixed("/admin/pengguna/baru"), data=_nothing
    ),
    _admin(
        "/admin/pengguna/<int:user_id>",
        "GET",
        "users:manage",
        world_url("/admin/pengguna/{w.c_manager.id}"),
    ),
    _admin(
        "/admin/pengguna/<int:user_id>",
        "POST",
        "users:manage",
        world_url("/admin/pengguna/{w.c_manager.id}"),
        data=_nothing,
    ),
    *(
        _admin(
            f"/admin/pengguna/<int:user_id>/{tail}",
            "POST",
            "users:manage",
            world_url("/admin/pengguna/{w.c_manager.id}/" + tail),
            data=_nothing,
        )
        for tail in ("2fa/reset", "buka-kunci", "kata-sandi", "peran", "peran/hapus")
    ),
]

TABLE: dict[tuple[str, str], Entry] = {}
for _entry in ENTRIES:
    _key = (_entry.rule, _entry.method)
    if _key in TABLE:
        raise ValueError(f"the access table lists {_key} twice")
    TABLE[_key] = _entry


def cell_count() -> int:
    return sum(len(entry.cells()) for entry in TABLE.values())
