"""The whole-run identity scan (tests/leak_scan.py) finds an identity in each kind of output,
stays quiet on clean outputs and on generated junk, and fails the run when it finds one. Each
test here uses its own scanner; the session's scanner only sees what real tests write."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from tests.leak_scan import (
    ERROR_PAGE,
    LOG,
    MAIL,
    REDIRECTED_URL,
    TASK,
    URL,
    IdentityScanner,
    conclude,
    identity_kind,
    report_lines,
    session_scanner,
    trie_pattern,
    without_own_input,
)

NAME = "Wiratmi Sekarlangit Handayani"
NIK = "3204115907880003"
PHONE = "085722219876"


def scanner_knowing(*identities: tuple[str, str]) -> IdentityScanner:
    scanner = IdentityScanner()
    for column, value in identities:
        assert scanner.learn(column, value)
    return scanner


@pytest.mark.parametrize(
    ("channel", "where", "text"),
    [
        (LOG, "logger app.cases (INFO)", f"case registered for {NAME}"),
        (URL, "redirect from GET /kasus", f"/kasus?q={NIK}"),
        (ERROR_PAGE, "GET /kasus/<int:case_id> → 404", f"<p>Tidak ada kasus {PHONE}</p>"),
        (TASK, "task referrals.notify (outbox row)", f'[[1, "{NAME}"], {{}}]'),
        (MAIL, "e-mail (memory backend)", f"[Simpul] Rujukan\n{NAME} dirujuk"),
    ],
)
def test_an_identity_in_any_output_is_found(channel: str, where: str, text: str) -> None:
    scanner = scanner_knowing(
        ("victims.name", NAME), ("victims.nik", NIK), ("guardians.phone", PHONE)
    )
    scanner.see(channel, where, text)
    (finding,) = scanner.scan()
    assert (finding.channel, finding.where, finding.noted) == (channel, where, False)
    assert finding.column in {"victims.name", "victims.nik", "guardians.phone"}
    report = "\n".join(report_lines([finding]))
    for value in (NAME, NIK, PHONE):
        assert value not in report  # only the first two characters and the length
    assert finding.masked in report


def test_clean_outputs_find_nothing() -> None:
    scanner = scanner_knowing(("victims.name", NAME), ("victims.nik", NIK))
    scanner.see(LOG, "logger app (INFO)", "case 12 registered; victim 3 (Wiratmi)")
    scanner.see(URL, "request GET /kasus → 200", "/kasus?q=3204115907")
    scanner.see(ERROR_PAGE, "GET /x → 404", "<h1>Halaman tidak ditemukan</h1>")
    assert scanner.scan() == []
    assert "none found" in scanner.summary([])


def test_an_identity_written_after_the_output_is_still_found() -> None:
    scanner = IdentityScanner(chunk_chars=64)  # early outputs are already compressed away
    scanner.see(LOG, "logger app.tasks (ERROR)", f"task failed for {NAME}")
    for n in range(50):
        scanner.see(URL, "request GET /kasus → 200", f"/kasus/{n}")
    scanner.learn("victims.name", NAME)
    (finding,) = scanner.scan()
    assert finding.channel == LOG
    assert "1 found" in scanner.summary([finding])


def test_the_place_of_a_finding_hides_the_identity() -> None:
    scanner = scanner_knowing(("victims.nik", NIK))
    scanner.current_test = f"tests/x.py::test_search[{NIK}]"
    scanner.see(URL, f"request GET /cari/{NIK} → 404", "/cari/" + NIK)
    (finding,) = scanner.scan()
    assert NIK not in finding.where + finding.test
    assert "32… (16 chars)" in finding.where


def test_a_request_answered_by_a_redirect_is_a_note_only() -> None:
    scanner = scanner_knowing(("victims.name", NAME))
    scanner.see(REDIRECTED_URL, "request GET /kasus → 303", f"/kasus?q={NAME}")
    (finding,) = scanner.scan()
    assert finding.noted
    assert "none found" in scanner.summary([finding])


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("victims.nik", NIK, "nik"),
        ("victims.nik", "320411590788000", None),  # 15 digits
        ("victims.nik", "32041159078800031", None),  # 17 digits
        ("victims.nik", "0", None),
        ("victims.name", NAME, "name"),
        ("victims.name", "Siti Aminah", "name"),
        ("perpetrators.name", "Kusumawardhani", "name"),  # one word of 8+ letters
        ("cases.reporter_name", "Ni Made Ayu Lestari", "name"),
        ("guardians.name", "Joko", None),  # one short word: would match common words
        ("victims.name", "aaaa", None),
        ("victims.name", "aaaaaaaaaaaa", None),  # one letter repeated
        ("victims.name", "<script>alert(1)</script>", None),
        ("victims.name", "Jo Li", None),
        ("victims.name", "Budi 2", None),
        ("victims.phone", PHONE, "phone"),
        ("witnesses.phone", "+6285722219876", "phone"),
        ("cases.reporter_phone", "6285722219876", "phone"),
        ("victims.phone", "0857", None),
        ("victims.phone", "1234567890", None),
        ("victims.address", "Jl. Dahlia Fiktif No. 6", "address"),
        ("victims.address", "RT 1", None),
        ("cases.kronologi", NAME, None),  # not an identity column
    ],
)
def test_only_values_shaped_like_identities_count(
    column: str, value: str, kind: str | None
) -> None:
    assert identity_kind(column, value) == kind
    assert IdentityScanner().learn(column, value) is (kind is not None)


def test_an_error_page_is_scanned_without_the_requests_own_input() -> None:
    from flask import Flask

    page = f"<h1>Konflik</h1><input name=name value='{NAME}'><p>Dilihat oleh {PHONE}</p>"
    with Flask(__name__).test_request_context("/kasus/1/ubah", method="POST", data={"name": NAME}):
        kept = without_own_input(page)
    assert NAME not in kept
    assert PHONE in kept  # what the application added is still scanned


def test_the_matcher_finds_identities_sharing_a_beginning() -> None:
    words = ["Siti Aminah", "Siti Aminah Putri", "Siti Amanah", "3204115907880003"]
    pattern = trie_pattern(words)
    assert pattern is not None
    for word in words:
        assert pattern.search(f"<b>{word}</b>").group() == word  # type: ignore[union-attr]
    assert pattern.search("Siti Amin") is None
    assert trie_pattern([]) is None


def test_a_finding_fails_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    scanner = scanner_knowing(("victims.name", NAME))
    scanner.see(ERROR_PAGE, "GET /kasus/<int:case_id> → 403", f"Akses ditolak: {NAME}")
    session = SimpleNamespace(
        exitstatus=pytest.ExitCode.OK,
        config=SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: None)),
    )
    findings = conclude(scanner, session)
    assert len(findings) == 1
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    printed = capsys.readouterr().err
    assert "victims.name Wi… (29 chars) in error page: GET /kasus/<int:case_id> → 403" in printed
    assert NAME not in printed
    assert "1 found" in printed


def test_a_clean_scan_leaves_the_run_passing(capsys: pytest.CaptureFixture[str]) -> None:
    session = SimpleNamespace(
        exitstatus=pytest.ExitCode.OK,
        config=SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: None)),
    )
    assert conclude(scanner_knowing(("victims.nik", NIK)), session) == []
    assert session.exitstatus == pytest.ExitCode.OK
    assert "none found" in capsys.readouterr().err


def test_the_session_scan_learns_writes_and_sees_outputs(
    client: Any, create_agency: Any, create_user: Any, create_case: Any
) -> None:
    """The plugin is installed for the session and wired to the application."""
    from app.cases.intake import VictimData
    from app.core.enums import Role

    scanner = session_scanner()
    assert scanner is not None
    before = dict(scanner.counts)
    agency = create_agency()
    manager = create_user(roles=[(Role.MANAJER_KASUS, agency)])
    name = "Probowati Lintangsari Uji"
    create_case(
        agency,
        actor=manager,
        victims=[VictimData(sex="P", name=name, age=30, violence_types=["fisik"])],
    )
    assert name in scanner.identities
    logging.getLogger("app.leak_scan_probe").debug("probe %s", 1)
    client.get("/halaman-yang-tidak-ada")
    assert scanner.counts[LOG] > before[LOG]
    assert scanner.counts[URL] + scanner.counts[REDIRECTED_URL] > (
        before[URL] + before[REDIRECTED_URL]
    )
