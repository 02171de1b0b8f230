"""Hostile input in every form (issue #7, item 11): overlong strings, control characters,
HTML/script and SQL payloads and wrong types, posted by a signed-in user allowed to use the form.

For every example: no 500; a refused post (4xx) wrote nothing (row counts of every table are
unchanged, unless the form records the attempt itself, see ``ignored``); an accepted post
(2xx/3xx) stored the text as plain text (it reads back as sent, never interpreted); and no page
shows a script payload unescaped.

A 500 here is a bug in the application, not in the test: keep the test as it is and fix the form
(refuse or strip control characters, refuse what does not parse).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.agencies.models import Agency
from app.assessments.models import Assessment
from app.assessments.operations import FindingData, save_assessment
from app.auth import operations as ops
from app.auth.passwords import verify_password
from app.cases.intake import ConsentData
from app.cases.models import Case, CaseNote, ConsentEntry
from app.cases.operations import add_consent
from app.core.db import utcnow
from app.core.enums import AssessmentArea, Role, ServiceType
from app.extensions import db, limiter
from app.indicators.definitions import sync_definitions
from app.indicators.models import IndicatorTarget
from app.referrals.models import Referral
from app.regions.models import Region
from app.workflow.models import CaseTransfer, CaseTransition
from app.workflow.operations import apply_case_event
from app.workflow.tracks import create_track
from tests.factories import TEST_PASSWORD, AgencyFactory, KabkotaFactory, UserFactory
from tests.factories.cases import INTAKE_FORM, create_case
from tests.fixtures import login_as

# --- the hostile values ------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# what must never reach a page unescaped
MARKUP = (SCRIPT, "<img src=x onerror=alert(1)>")

PAYLOADS = [
    SCRIPT,
    IMG,
    "' OR 1=1 --",
    "'; DROP TABLE cases; --",
    '" OR ""="',
    "\x00",
    "a\x00b",
    "\u202eevil.exe",
    "\ufeffBOM",
    "\x1b[31mred",
    "line\r\nSet-Cookie: x=1",
    "{{ 7 * 7 }}",
    "%(name)s %s %d",
    "../../../etc/passwd",
    "\ud7ff\ue000\U0010fffd",
]
CONTROL = [chr(c) for c in range(0x20)] + ["\x7f", "\u202e", "\ufeff", "\u200b", "\u2028"]

WRONG_TYPES = [
    "abc",
    "12abc",
    "9" * 40,
    "9" * 5000,
    "-1",
    "-99999999999",
    "0",
    "1e309",
    "NaN",
    "inf",
    "\u00b2",  # SUPERSCRIPT TWO: str.isdigit() is True, int() refuses it
    "\u0661\u0662",  # ARABIC-INDIC 12: int() reads it
    "2025-13-45",
    "31/12/2025",
    "99999-12-31T25:61",
    "",
    " ",
    "0x10",
    "1.5",
    "3,2,1",
]


def _repeat(text: str, size: int) -> str:
    return (text * (size // len(text) + 1))[:size]


hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(
        alphabet=st.sampled_from([*CONTROL, "a", " ", "<", ">", "'", '"', "&", ";"]),
        min_size=1,
        max_size=30,
    ),
    st.builds(_repeat, st.sampled_from([*PAYLOADS, "A"]), st.integers(1_000, 10_000)),
    st.builds(lambda a, b: a + " " + b, st.sampled_from(PAYLOADS), st.sampled_from(PAYLOADS)),
)
hostile_number = st.one_of(
    st.sampled_from(WRONG_TYPES),
    st.integers(-(2**70), 2**70).map(str),
    hostile_text,
)
hostile = st.one_of(hostile_text, hostile_number)


def maybe_repeated(values: st.SearchStrategy[str]) -> st.SearchStrategy[str | list[str]]:
    """A value, or the key sent several times (a list where a scalar is expected)."""
    return st.one_of(values, st.lists(values, min_size=2, max_size=3))


HYPOTHESIS = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    max_examples=25,
    deadline=None,
)

# --- posting and checking ----------------------------------------------------------------------


# audit entries written by design whatever the outcome: a refusal (403/404) is recorded apart
# (app/audit/web.py), opening a case page is recorded as a view, and the intake duplicate check
# is recorded even when the form it ran on is refused (its result was shown)
RECORDED_ANYWAY = ("access.denied", "case.view", "case.duplicate_check")


def _counts_query(skip: frozenset[str]) -> Any:
    """One statement: the row count of every table but those in ``skip`` (and the audit entries,
    counted by action apart)."""
    columns = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in db.metadata.sorted_tables
        if table.name not in skip and table.name != "audit_entries"
    ]
    return sa.select(*columns)


_COUNTS_QUERIES: dict[frozenset[str], Any] = {}


def row_counts(ignored: Iterable[str] = ()) -> dict[str, int]:
    """Rows per table, and audit entries per action (``audit:<action>``), but for ``ignored``
    (table names, or ``audit:<action>`` for one kind of entry). Two statements: the tables'
    counts in one, the audit entries by action in the other."""
    skip = frozenset(ignored)
    if skip not in _COUNTS_QUERIES:
        _COUNTS_QUERIES[skip] = _counts_query(skip)
    counts: dict[str, int] = dict(db.session.execute(_COUNTS_QUERIES[skip]).one()._mapping)
    if "audit_entries" not in skip:  # by action, so a difference names it
        table = db.metadata.tables["audit_entries"]
        for action, n in db.session.execute(
            sa.select(table.c.action, sa.func.count())
            .where(table.c.action.not_in(RECORDED_ANYWAY))
            .group_by(table.c.action)
        ):
            if f"audit:{action}" not in skip:
                counts[f"audit:{action}"] = n
    return counts


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + f"... ({len(text)} chars)"


def post(client: Any, url: str, data: MultiDict[str, str] | dict[str, Any]) -> Any:
    """Post; an exception escaping the view (a 500 in production) fails with what was sent."""
    try:
        response = client.post(url, data=data)
    except Exception as error:  # the app propagates in testing: this is the 500
        db.session.rollback()
        pytest.fail(
            f"500 on POST {url}: {type(error).__name__}: {str(error)[:400]}\n"
            f"data: {_short(dict(MultiDict(data).lists()))}"
        )
    if response.status_code >= 500:
        db.session.rollback()
        pytest.fail(
            f"{response.status_code} on POST {url}\ndata: {_short(dict(MultiDict(data).lists()))}"
        )
    return response


def assert_escaped(html: str, *sent: Any) -> None:
    """No script payload that was sent appears unescaped in the page."""
    for value in sent:
        for item in value if isinstance(value, list) else [value]:
            for marker in MARKUP:
                if marker in str(item):
                    assert marker not in html, f"unescaped {marker!r} in the page"


def plain(text: str | None) -> str:
    """Text as a reader sees it: every kind of white space (the separators \\x1c to \\x1f and line
    ends included) one space, other control and format characters dropped, outer spaces trimmed.
    A form or an import may normalise white space like that (agency names are collapsed to
    single spaces); it may not change anything else."""
    text = (text or "").replace("\r\n", "\n")
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Zl")
    )
    return " ".join(kept.split())


def assert_round_trip(stored: str | None, sent: Any, field: str) -> None:
    if isinstance(sent, list):  # the first of repeated keys is the one a form reads
        sent = sent[0]
    assert "\x00" not in (stored or ""), f"{field}: a NUL byte was stored"
    assert plain(stored) == plain(sent), (
        f"{field} did not round-trip as plain text: sent {_short(sent)}, stored {_short(stored)}"
    )


def follow(client: Any, response: Any, *sent: Any) -> None:
    """Open the page a successful post redirects to and check it shows the values escaped."""
    if response.status_code in (301, 302, 303) and response.location:
        page = client.get(response.location)
        assert page.status_code < 500, response.location
        assert_escaped(page.get_data(as_text=True), *sent)


def outcome(
    client: Any,
    url: str,
    data: MultiDict[str, str] | dict[str, Any],
    *,
    ignored: Iterable[str] = (),
    stored: Callable[[Any], None] | None = None,
) -> Any:
    """Post and check the invariants; ``stored(response)`` checks what a success saved."""
    db.session.commit()  # what the test set up is written first (the client does the same)
    before = row_counts(ignored)
    response = post(client, url, data)
    sent = [v for _, values in MultiDict(data).lists() for v in values]
    assert_escaped(response.get_data(as_text=True), *sent)
    if response.status_code >= 400:
        db.session.expire_all()
        assert row_counts(ignored) == before, f"a refused post ({response.status_code}) wrote rows"
    elif stored is not None:
        db.session.expire_all()
        stored(response)
    follow(client, response, *sent)
    return response


def as_multidict(fields: dict[str, Any]) -> MultiDict[str, str]:
    data: MultiDict[str, str] = MultiDict()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(key, item)
    return data


# --- the people and the cases ------------------------------------------------------------------


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(
        services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN, ServiceType.REHABILITASI_SOSIAL]
    )


@pytest.fixture
def provider() -> Any:
    return AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.REHABILITASI_KESEHATAN])


@pytest.fixture
def case(agency: Any, manager: Any) -> Any:
    return create_case(agency, actor=manager, case_manager=manager)


@pytest.fixture
def officer_client(client: Any, officer: Any) -> Any:
    login_as(client, officer)
    return client


@pytest.fixture
def manager_client(client: Any, manager: Any) -> Any:
    login_as(client, manager)
    return client


def in_assessment(case: Any, manager: Any) -> None:
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=manager, expected_version=case.version)


def in_plan(case: Any, manager: Any) -> None:
    in_assessment(case, manager)
    for victim in case.victims:
        findings = [FindingData(area=a, level="rendah") for a in AssessmentArea]
        save_assessment(case, victim, findings, "Ringkasan.", complete=True, actor=manager)
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)


# --- the intake form (/kasus/baru) -------------------------------------------------------------

INTAKE = INTAKE_FORM  # the common case, as a browser posts it
# free text, and where it is stored (read through the ORM: encrypted columns come back decrypted)
INTAKE_TEXT: dict[str, Callable[[Case], str | None]] = {
    "kronologi": lambda c: c.kronologi,
    "victims-0-name": lambda c: c.victims[0].name,
    "victims-0-address": lambda c: c.victims[0].address,
    "perpetrators-0-name": lambda c: c.perpetrators[0].name,
    "perpetrators-0-notes": lambda c: c.perpetrators[0].notes,
}
INTAKE_TYPED = [
    "received_at",
    "incident_date",
    "victims-0-birth_date",
    "victims-0-age",
    "victims-0-nik",
    "perpetrators-0-age",
    "victims-0-consents-0-at",
    "channel",
    "risk",
    "case_types",
    "victims-0-sex",
    "victims-0-violence_types",
    "perpetrators-0-relationships-0",
    "victims-0-id",
    "perpetrators-0-id",
    "victims-0-link_person",
    "version",
    "agency",
    "action",
    "add_victim",
    "remove_perpetrator",
]


@HYPOTHESIS
@given(
    field=st.sampled_from([*INTAKE_TEXT, *INTAKE_TYPED]),
    value=maybe_repeated(hostile),
    draft=st.booleans(),
)
@example(field="kronologi", value="a\x00b", draft=False)
@example(field="victims-0-name", value="Siti\x00", draft=True)
@example(field="victims-0-id", value="\u00b2", draft=False)
def test_intake_form(officer_client: Any, field: str, value: Any, draft: bool) -> None:
    client = officer_client
    fields = dict(INTAKE, **{field: value})
    if draft and field != "action":
        fields["action"] = "save_draft"

    def stored(response: Any) -> None:
        match = re.search(r"/kasus/(\d+)", response.location or "")
        if not match or field not in INTAKE_TEXT:
            return
        saved = db.session.get(Case, int(match.group(1)))
        assert saved is not None
        assert_round_trip(INTAKE_TEXT[field](saved), value, field)

    outcome(client, "/kasus/baru", as_multidict(fields), stored=stored)


# --- notes and consents on the case page -------------------------------------------------------


@HYPOTHESIS
@given(body=maybe_repeated(hostile_text), corrects=st.one_of(st.none(), hostile_number))
@example(body="a\x00b", corrects=None)
@example(body="Koreksi.", corrects="9" * 40)
@example(body="Koreksi.", corrects="\u00b2")
def test_note(manager_client: Any, case: Any, body: Any, corrects: str | None) -> None:
    data = {"body": body} if corrects is None else {"body": body, "corrects_id": corrects}

    def stored(response: Any) -> None:
        note = db.session.scalar(
            sa.select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id.desc())
        )
        assert note is not None
        assert_round_trip(note.body, body, "body")

    outcome(manager_client, f"/kasus/{case.id}/catatan", as_multidict(data), stored=stored)


@HYPOTHESIS
@given(
    field=st.sampled_from(["purpose", "decision", "given_by", "given_by_name", "at"]),
    value=maybe_repeated(hostile),
)
@example(field="given_by_name", value="Ibu\x00")
def test_consent(manager_client: Any, case: Any, field: str, value: Any) -> None:
    victim = case.victims[0]
    prefix = f"consent{victim.id}-"
    fields = {
        "purpose": "layanan:pendampingan",
        "decision": "setuju",
        "given_by": "wali",
        "given_by_name": "Ibu Kandung",
        "at": "2025-03-15T10:00",
        field: value,
    }

    def stored(response: Any) -> None:
        if field != "given_by_name":
            return
        entry = db.session.scalar(
            sa.select(ConsentEntry)
            .where(ConsentEntry.victim_id == victim.id)
            .order_by(ConsentEntry.id.desc())
        )
        assert entry is not None
        assert_round_trip(entry.given_by_name, value, field)

    data = as_multidict({prefix + k: v for k, v in fields.items()})
    outcome(manager_client, f"/kasus/{case.id}/korban/{victim.id}/persetujuan", data, stored=stored)


# --- the workflow: steps, the plan, transfers --------------------------------------------------


@HYPOTHESIS
@given(
    event=st.one_of(
        st.sampled_from(["start_identification", "close", "start_assessment"]),
        st.sampled_from(["<script>", "x" * 300, "%00", "' OR 1=1 --"]),
    ),
    reason=maybe_repeated(hostile_text),
    version=st.one_of(st.none(), hostile_number),
    closure=st.one_of(st.none(), st.sampled_from(["duplikat", "lainnya"]), hostile_text),
    reference=st.one_of(st.none(), hostile_text),
)
@example(event="start_identification", reason="a\x00b", version=None, closure=None, reference=None)
@example(event="start_identification", reason="x", version="9" * 5000, closure=None, reference=None)
@example(event="start_identification", reason="x", version="\u00b2", closure=None, reference=None)
def test_case_step_with_reason(
    manager_client: Any,
    case: Any,
    event: str,
    reason: Any,
    version: str | None,
    closure: str | None,
    reference: str | None,
) -> None:
    fields: dict[str, Any] = {"reason": reason, "approve": "y"}
    for key, value in (
        ("version", version),
        ("closure_kind", closure),
        ("duplicate_reference", reference),
    ):
        if value is not None:
            fields[key] = value

    def stored(response: Any) -> None:
        row = db.session.scalar(
            sa.select(CaseTransition)
            .where(CaseTransition.case_id == case.id, CaseTransition.event == event)
            .order_by(CaseTransition.id.desc())
        )
        assert row is not None
        assert_round_trip(row.reason, reason, "reason")

    url = f"/kasus/{case.id}/langkah/{event}"
    outcome(manager_client, url, as_multidict(fields), stored=stored)


@HYPOTHESIS
@given(
    field=st.sampled_from(["victim", "service_type", "provider", "target_date", "version"]),
    value=maybe_repeated(hostile),
)
@example(field="provider", value="9" * 40)
@example(field="victim", value="9" * 40)
def test_plan_service(
    manager_client: Any, case: Any, manager: Any, provider: Any, field: str, value: Any
) -> None:
    if case.state.value == "diterima":
        in_plan(case, manager)
    fields = {
        "victim": str(case.victims[0].id),
        "service_type": "rehabilitasi_kesehatan",
        "provider": str(provider.id),
        "target_date": "2025-04-01",
        "version": str(case.version),
        field: value,
    }
    outcome(manager_client, f"/kasus/{case.id}/rencana", as_multidict(fields))


@HYPOTHESIS
@given(
    to_agency=maybe_repeated(st.one_of(st.just("RECEIVER"), hostile_number)),
    reason=maybe_repeated(hostile_text),
    version=st.one_of(st.none(), hostile_number),
)
@example(to_agency="RECEIVER", reason="a\x00b", version=None)
@example(to_agency="9" * 40, reason="Pindah.", version=None)
def test_transfer_request(
    manager_client: Any, case: Any, provider: Any, to_agency: Any, reason: Any, version: Any
) -> None:
    def real(value: str) -> str:
        return str(provider.id) if value == "RECEIVER" else value

    target = [real(v) for v in to_agency] if isinstance(to_agency, list) else real(to_agency)
    fields: dict[str, Any] = {"to_agency": target, "reason": reason}
    if version is not None:
        fields["version"] = version

    def stored(response: Any) -> None:
        transfer = db.session.scalar(
            sa.select(CaseTransfer)
            .where(CaseTransfer.case_id == case.id)
            .order_by(CaseTransfer.id.desc())
        )
        assert transfer is not None
        assert_round_trip(transfer.reason, reason, "reason")

    outcome(manager_client, f"/kasus/{case.id}/pelimpahan", as_multidict(fields), stored=stored)


# --- referrals ---------------------------------------------------------------------------------


@pytest.fixture
def track(case: Any, manager: Any, provider: Any) -> Any:
    victim = case.victims[0]
    in_assessment(case, manager)
    track = create_track(
        case, victim, ServiceType.REHABILITASI_KESEHATAN, provider=provider, actor=manager
    )
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{provider.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=manager,
    )
    db.session.flush()
    return track


@HYPOTHESIS
@given(
    field=st.sampled_from(
        [
            "message",
            "override_reason",
            "given_by_name",
            "given_by",
            "to_agency",
            "attachments",
            "action",
            "version",
        ]
    ),
    value=maybe_repeated(hostile),
    consent_now=st.booleans(),
)
@example(field="version", value="\u00b2", consent_now=False)
@example(field="message", value="a\x00b", consent_now=False)
@example(field="attachments", value="2147483648", consent_now=False)  # past PostgreSQL integer
def test_referral_send(
    manager_client: Any,
    case: Any,
    track: Any,
    provider: Any,
    field: str,
    value: Any,
    consent_now: bool,
) -> None:
    fields: dict[str, Any] = {
        "to_agency": str(provider.id),
        "message": "Mohon pemeriksaan.",
        "share_incident": "y",
        "action": "draft",
        "given_by": "korban",
        field: value,
    }
    if consent_now:
        fields["consent_now"] = "y"

    def stored(response: Any) -> None:
        # a draft keeps the message; a supervisor's override is a decision taken when sending
        # (and only without the victim's consent), so a draft does not store it
        if field != "message":
            return
        referral = db.session.scalar(
            sa.select(Referral).where(Referral.track_id == track.id).order_by(Referral.id.desc())
        )
        assert referral is not None
        assert_round_trip(getattr(referral, field), value, field)

    url = f"/kasus/{case.id}/layanan/{track.id}/rujukan"
    outcome(manager_client, url, as_multidict(fields), stored=stored)


# --- the assessment ----------------------------------------------------------------------------

AREA = AssessmentArea.FISIK.value


@HYPOTHESIS
@given(
    field=st.sampled_from(
        ["summary", f"{AREA}-needs", f"{AREA}-risks", f"{AREA}-level", "version", "complete"]
    ),
    value=maybe_repeated(hostile),
)
@example(field="summary", value="a\x00b")
@example(field="version", value="\u00b2")
def test_assessment(manager_client: Any, case: Any, manager: Any, field: str, value: Any) -> None:
    if case.state.value == "diterima":
        in_assessment(case, manager)
    victim = case.victims[0]
    fields: dict[str, Any] = {"summary": "Ringkasan.", field: value}
    for area in AssessmentArea:
        fields.setdefault(f"{area.value}-level", "sedang")

    def stored(response: Any) -> None:
        assessment = db.session.scalar(
            sa.select(Assessment).where(Assessment.victim_id == victim.id)
        )
        assert assessment is not None
        if field == "summary":
            assert_round_trip(assessment.summary, value, field)
        elif field in (f"{AREA}-needs", f"{AREA}-risks"):
            finding = next(f for f in assessment.findings if f.area.value == AREA)
            assert_round_trip(getattr(finding, field.split("-")[1]), value, field)

    url = f"/kasus/{case.id}/korban/{victim.id}/asesmen"
    outcome(manager_client, url, as_multidict(fields), stored=stored)


# --- indicator targets -------------------------------------------------------------------------


@pytest.fixture
def kab(client: Any) -> Any:
    sync_definitions()
    kab = KabkotaFactory()
    login_as(client, UserFactory(roles=[(Role.ANALIS_DATA, AgencyFactory(region=kab))]))
    return kab


@HYPOTHESIS
@given(
    field=st.sampled_from(["region", "year", "rasio_kekerasan_perempuan", "nope"]),
    value=maybe_repeated(hostile),
)
def test_indicator_targets(client: Any, kab: Any, field: str, value: Any) -> None:
    fields: dict[str, Any] = {
        "region": kab.code,
        "year": "2025",
        "rasio_kekerasan_perempuan": "3,20",
        field: value,
    }

    def stored(response: Any) -> None:
        values = db.session.scalars(
            sa.select(IndicatorTarget.value).where(IndicatorTarget.region_id == kab.id)
        ).all()
        assert all(v >= 0 for v in values)

    outcome(client, "/indikator/target", as_multidict(fields), stored=stored)


# --- signing in and the profile ----------------------------------------------------------------

# what a sign-in attempt records by design (the attempt, the lockout counter, the audit trail)
SIGN_IN_RECORDS = ("login_attempts", "audit_log", "audit_entries", "users", "user_sessions")


@HYPOTHESIS
@given(email=maybe_repeated(hostile), password=maybe_repeated(hostile))
@example(email="a\x00@contoh.go.id", password="x")
def test_login(client: Any, app: Any, email: Any, password: Any) -> None:
    ignored = [t.name for t in db.metadata.sorted_tables if t.name in SIGN_IN_RECORDS]
    response = outcome(
        client, "/masuk", as_multidict({"email": email, "password": password}), ignored=ignored
    )
    assert response.status_code != 302 or "/masuk" in (response.location or ""), (
        "a hostile sign-in was let in"
    )


@pytest.fixture
def password() -> list[str]:
    """The officer's password as the examples of one test change it."""
    return [TEST_PASSWORD]


@HYPOTHESIS
@given(
    new=maybe_repeated(hostile_text),
    confirm_same=st.booleans(),
    current=st.one_of(st.none(), hostile_text),
)
def test_profile_password_change(
    officer_client: Any,
    officer: Any,
    password: list[str],
    new: Any,
    confirm_same: bool,
    current: str | None,
) -> None:
    client, user = officer_client, officer
    # A wrong current password counts towards the lockout and the sign-in rate limits, which
    # carry over from one example to the next (they share the officer and the client): each
    # example starts with none counted, so that a later one is not refused for the earlier
    # ones' failures (tests/auth/test_sign_out_and_password_change.py tests the lockout).
    ops.reset_failures(user)
    limiter.reset()
    fields = {
        "pw-current_password": password[0] if current is None else current,
        "pw-new_password": new,
        "pw-confirm_password": new if confirm_same else "something else entirely 123",
    }

    def stored(response: Any) -> None:
        db.session.refresh(user)
        typed = new[0] if isinstance(new, list) else new
        assert verify_password(user.password_hash, typed), "the new password is not the one typed"
        assert typed not in user.password_hash
        password[0] = typed

    # a password change records its audit entry and ends the other sessions by design; a wrong
    # current password is refused (422) and still recorded, apart from the rolled-back request
    # (the failure count on the user's row, and this entry)
    outcome(
        client,
        "/akun/kata-sandi",
        as_multidict(fields),
        ignored=["audit:user.password_change_failed"],
        stored=stored,
    )


@HYPOTHESIS
@given(locale=maybe_repeated(hostile))
def test_profile_language(officer_client: Any, officer: Any, locale: Any) -> None:
    client, user = officer_client, officer

    def stored(response: Any) -> None:
        db.session.refresh(user)
        assert user.locale in ("id", "en", None)

    outcome(client, "/akun", as_multidict({"profile-locale": locale}), stored=stored)


# --- administration: agencies, regions, users --------------------------------------------------


@pytest.fixture
def admin_client(client: Any) -> Any:
    home = AgencyFactory()
    login_as(client, UserFactory(roles=[(Role.ADMIN, home)]))
    return client


@HYPOTHESIS
@given(
    field=st.sampled_from(["code", "name", "type", "region", "services"]),
    value=maybe_repeated(hostile),
)
@example(field="region", value="91\x00")
def test_admin_agency_create(admin_client: Any, field: str, value: Any) -> None:
    kab = KabkotaFactory()
    fields: dict[str, Any] = {
        "code": "UJI-HOSTILE",
        "name": "Lembaga Uji Hostile",
        "type": "uptd_ppa",
        "region": kab.code,
        "services": ["pengaduan"],
        field: value,
    }

    def stored(response: Any) -> None:
        match = re.search(r"/admin/lembaga/(\d+)", response.location or "")
        assert match, response.location
        agency = db.session.get(Agency, int(match.group(1)))
        assert agency is not None
        if field == "name":
            assert_round_trip(agency.name, value, field)
        elif field == "code":  # codes are kept in capitals by design
            assert_round_trip(
                agency.code, (value[0] if isinstance(value, list) else value).upper(), field
            )

    outcome(admin_client, "/admin/lembaga/baru", as_multidict(fields), stored=stored)


@HYPOTHESIS
@given(
    field=st.sampled_from(["level", "code", "name", "parent_code"]),
    value=maybe_repeated(hostile),
)
@example(field="name", value="Provinsi\x00")
def test_admin_region_create(admin_client: Any, field: str, value: Any) -> None:
    fields: dict[str, Any] = {
        "level": "provinsi",
        "code": "96",
        "name": "Provinsi Uji Hostile",
        "parent_code": "",
        field: value,
    }

    def stored(response: Any) -> None:
        region = db.session.scalar(sa.select(Region).order_by(Region.id.desc()))
        assert region is not None
        if field in ("code", "name"):
            assert_round_trip(getattr(region, field), value, field)

    outcome(admin_client, "/admin/wilayah/baru", as_multidict(fields), stored=stored)


@HYPOTHESIS
@given(field=st.sampled_from(["email", "name", "password"]), value=maybe_repeated(hostile))
@example(field="name", value="Nama\x00")
def test_admin_user_create(admin_client: Any, field: str, value: Any) -> None:
    fields: dict[str, Any] = {
        "email": "baru.hostile@contoh.go.id",
        "name": "Pengguna Hostile",
        "password": "kuda-laut hijau menari di sore hari",
        field: value,
    }
    outcome(admin_client, "/admin/pengguna/baru", as_multidict(fields))
