"""The name keys (``victim_name_keys``): written with the name, rewritten when it changes, gone
with an erasure; the search by NIK; the duplicate check's "likely" and "possible"."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from app.cases import operations as ops
from app.cases import queries
from app.cases.intake import ConsentData, VictimData
from app.cases.models import VictimNameKey
from app.core.crypto import name_keys, name_sounds
from app.core.enums import Role
from app.extensions import db
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case, make_intake

BORN = dt.date(1994, 5, 1)


def _victim(name, *, born=BORN, nik=None):
    return VictimData(
        sex="P",
        name=name,
        birth_date=born,
        age=None if born else 30,
        nik=nik,
        violence_types=["fisik"],
        consents=[
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED)
        ],
    )


def _found(user, term):
    page = queries.page_of_cases_for(user, queries.CaseFilters(search=term), per_page=25)
    return [c.id for c in page.items]


def _stored(victim_id):
    return set(
        db.session.scalars(
            sa.select(VictimNameKey.digest).where(VictimNameKey.victim_id == victim_id)
        )
    )


def test_the_phonetic_key_folds_the_old_spelling_and_keeps_the_final_vowel():
    same = [
        ("Soekarno", "Sukarno"),
        ("Djoko", "Joko"),
        ("Tjahjono", "Cahyono"),
        ("Sjamsul", "Syamsul"),
        ("Njoman", "Nyoman"),
        ("Achmad", "Ahmad"),
        ("Jusuf", "Yusuf"),
        ("Marissa", "Marisa"),
        ("Fatimah", "Fatima"),
        ("Dewy", "Dewi"),
    ]
    for old, new in same:
        assert name_sounds(old.lower()) & name_sounds(new.lower()), (old, new)
    for one, other in [("putri", "putra"), ("rina", "rino"), ("eko", "eka"), ("budi", "bude")]:
        assert not name_sounds(one) & name_sounds(other), (one, other)


def test_name_keys_are_hashes_of_the_current_key_never_the_words():
    key_id, digests = name_keys("Siti Nurhayati")
    assert key_id and digests
    assert all(len(d) == 32 and int(d, 16) >= 0 for d in digests)
    assert not any(word in d for d in digests for word in ("siti", "nurhayati"))


def test_keys_follow_the_name_and_go_with_an_erasure():
    from app.privacy.models import ErasureBasis
    from app.privacy.operations import erase_identity

    agency = AgencyFactory()
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    admin = UserFactory(roles=[(Role.ADMIN, agency)])
    case = create_case(agency, victims=[_victim("Kartini Rahayu")])
    victim = case.victims[0]
    first = _stored(victim.id)
    assert first and _found(supervisor, "Kartini") == [case.id]

    # the name changes: the old words no longer find her, the new ones do
    ops.update_case(
        case,
        make_intake(victims=[dataclasses.replace(_victim("Kartika Sari"), id=victim.id)]),
        expected_version=case.version,
        actor=supervisor,
    )
    db.session.flush()
    assert _stored(victim.id) and _stored(victim.id) != first
    assert _found(supervisor, "Kartini") == []
    assert _found(supervisor, "Kartika") == [case.id]

    erase_identity(victim, basis=ErasureBasis.PERMINTAAN, actor=admin)
    db.session.flush()
    assert _stored(victim.id) == set()
    assert _found(supervisor, "Kartika") == []


def test_search_by_nik_and_out_of_scope_is_not_found():
    agency, other = AgencyFactory(), AgencyFactory()
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    intake = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    mine = create_case(agency, actor=intake, victims=[_victim("Ani", nik="3273014105940001")])
    theirs = create_case(other, victims=[_victim("Ani Suryani", nik="3273014105940002")])
    assert _found(supervisor, "3273 0141 0594 0001") == [mine.id]
    assert _found(supervisor, "3273014105940002") == []  # another agency's
    assert _found(supervisor, "Suryani") == []
    assert _found(intake, "Ani") == [mine.id]  # the officer's own registration
    assert _found(manager, "Ani") == []  # a case manager not assigned to it
    assert theirs.id not in _found(supervisor, "Ani")


def test_the_duplicate_check_says_likely_or_possible():
    agency = AgencyFactory()
    exact = create_case(agency, victims=[_victim("Suharti Rahayu")])
    no_birth_date = create_case(agency, victims=[_victim("Suharti Rahayu", born=None)])
    other_born = create_case(agency, victims=[_victim("Suharti Rahayu", born=dt.date(1990, 1, 1))])
    by_nik = create_case(agency, victims=[_victim("Ani", nik="3273014105940001")])

    def hits(name, born=BORN, nik=None):
        found = queries.find_duplicates(agency.id, name=name, birth_date=born, nik=nik)
        return {(h.case.id, h.matched_on, h.likely) for h in found}

    assert hits("suharti  RAHAYU") == {
        (exact.id, "name_dob", True),
        (no_birth_date.id, "name_sound", False),
    }
    # old spelling: possibly the same, never another birth date
    assert hits("Soeharti Rahajoe") == {(exact.id, "name_sound", False)}
    assert other_born.id not in {c for c, _, _ in hits("Soeharti Rahajoe")}
    assert hits(None, None, "3273-0141-0594-0001") == {(by_nik.id, "nik", True)}
    assert hits("Suharni Rahayu") == set()  # a different name
    # likely ones first
    ordered = queries.find_duplicates(agency.id, name="Suharti Rahayu", birth_date=BORN, nik=None)
    assert [h.likely for h in ordered] == sorted((h.likely for h in ordered), reverse=True)


def test_the_reindex_writes_the_keys_of_victims_registered_before_them():
    """Victims registered before ``victim_name_keys`` existed have no rows (the migration holds
    no key): ``flask keys reindex`` writes them, and leaves victims already right alone."""
    agency = AgencyFactory()
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    older = create_case(agency, victims=[_victim("Larasati Wulandari")])
    newer = create_case(agency, victims=[_victim("Wulan Larasati")])
    kept = _stored(newer.victims[0].id)
    db.session.execute(
        sa.delete(VictimNameKey).where(VictimNameKey.victim_id == older.victims[0].id)
    )
    assert _found(supervisor, "Larasati") == [newer.id]

    checked, written = ops.rebuild_name_keys(500)
    assert checked >= 2 and written == len(name_keys("Larasati Wulandari")[1])
    assert _stored(newer.victims[0].id) == kept
    assert set(_found(supervisor, "Larasati")) == {older.id, newer.id}
    assert ops.rebuild_name_keys(500)[1] == 0  # idempotent
