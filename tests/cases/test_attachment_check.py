"""``flask attachments check``: the files in UPLOAD_DIR against the ``attachments`` rows (the
restore drill's comparison, docs/operations.md §6)."""

import pytest

from app.cases import operations as ops
from app.core.enums import Role
from app.core.sealed_files import sealed_size
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def attachments():
    agency = AgencyFactory()
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    case = create_case(agency, actor=manager, case_manager=manager)
    return [
        ops.add_attachment(case, f"surat-{n}.pdf", PDF + b"%" * n, actor=manager) for n in range(4)
    ]


def check(app, *args):
    return app.test_cli_runner().invoke(args=["attachments", "check", *args])


def test_every_row_with_its_file_is_ok(app, attachments):
    result = check(app)
    assert result.exit_code == 0, result.output
    assert result.output == "ok 4, missing 0, mismatched 0, orphan 0\n"


def test_a_missing_a_modified_a_truncated_and_an_orphan_file_are_each_reported(
    app, uploads, attachments
):
    kept, gone, changed, cut = attachments
    (uploads / gone.stored_name).unlink()
    content = (uploads / changed.stored_name).read_bytes()
    # same size, other bytes (the last byte flipped: a fixed byte would, one time in 256, be
    # the one the ciphertext already ends with)
    (uploads / changed.stored_name).write_bytes(content[:-1] + bytes([content[-1] ^ 0xFF]))
    (uploads / cut.stored_name).write_bytes(content[:10])
    (uploads / "left-over").write_bytes(b"no row refers to me")

    result = check(app)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    case_id = kept.case_id

    def name(a):
        return f"attachment {a.id} (case {case_id}), file {a.stored_name}"

    assert lines == [
        f"missing: {name(gone)}: not found",
        f"mismatched: {name(changed)}: does not decrypt to the bytes recorded at upload (SHA-256)",
        f"mismatched: {name(cut)}: 10 bytes on disk, expected {sealed_size(cut.size)}",
        "orphan: file left-over: no attachment row refers to it",
        "ok 1, missing 1, mismatched 2, orphan 1",
    ]
    assert "surat" not in result.output  # never the original file names

    quick = check(app, "--quick")  # sizes only: the same-size change goes unseen
    assert quick.exit_code == 1
    assert quick.output.splitlines()[-1] == "ok 2, missing 1, mismatched 1, orphan 1"


def test_a_legacy_plaintext_file_is_checked_against_its_recorded_bytes(app, uploads, attachments):
    """Files stored before encryption (not yet through ``flask attachments encrypt-existing``)
    are plaintext: the check compares them as they are."""
    legacy, changed = attachments[:2]
    (uploads / legacy.stored_name).write_bytes(PDF + b"%" * 0)
    (uploads / changed.stored_name).write_bytes(PDF + b"!")  # right size, wrong bytes

    result = check(app)

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "ok 3, missing 0, mismatched 1, orphan 0"
    assert f"attachment {changed.id} " in result.output


def test_a_restored_copy_elsewhere_is_checked_with_dir(app, uploads, attachments, tmp_path):
    restored = tmp_path / "restored"
    restored.mkdir()
    for a in attachments[:3]:
        (restored / a.stored_name).write_bytes((uploads / a.stored_name).read_bytes())

    result = check(app, "--dir", str(restored))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "ok 3, missing 1, mismatched 0, orphan 0"

    absent = check(app, "--dir", str(tmp_path / "nowhere"))
    assert absent.exit_code != 0 and "is not a directory" in absent.output
