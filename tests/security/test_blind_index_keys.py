"""The blind indexes have keys of their own (``BLIND_INDEX_KEYS``), not ``SECRET_KEY``: replacing
``SECRET_KEY`` (the breach runbook's first step) only ends sessions, while name and NIK search
and the duplicate check keep finding every victim; a new blind-index key is brought in with
``flask keys reindex``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import stat
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.auth.models import User
from app.cases.intake import VictimData
from app.cases.models import Person, Victim
from app.cases.queries import CaseFilters, find_duplicates, list_cases_for
from app.config import ConfigError
from app.core.crypto import (
    index_key_id,
    name_index,
    normalise_name,
    resolve_blind_index_keys,
)
from app.core.encryption import generate_key, parse_keys
from app.core.enums import Role
from app.core.keys_cli import count_index_keys, reindex_blind_indexes
from app.extensions import db
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

KEY_A = generate_key("ba")
KEY_B = generate_key("bb")
OTHER_SECRET = "a-completely-new-secret-key-after-the-breach-0987654321"

PEOPLE = [
    ("Kirana Paramitha Sari", "3273016607950004", dt.date(1995, 7, 26)),
    ("Dewi Anggraini Putri", "3273014212080002", dt.date(2008, 12, 2)),
    ("Wulan Sekar Arum", "3273015103900001", dt.date(1990, 3, 11)),
]


def _victims(agency: Any, manager: Any) -> list[Any]:
    cases = []
    for name, nik, born in PEOPLE:
        cases.append(
            create_case(
                agency,
                actor=manager,
                case_manager=manager,
                victims=[
                    VictimData(
                        sex="P", name=name, nik=nik, birth_date=born, violence_types=["fisik"]
                    )
                ],
            )
        )
    db.session.commit()
    return cases


def _all_found(agency: Any, supervisor: User, cases: list[Any]) -> None:
    """Every victim is found by name in the case list, and by NIK and by name + birth date in
    the duplicate check."""
    for (name, nik, born), case in zip(PEOPLE, cases, strict=True):
        listed = db.session.scalars(
            list_cases_for(supervisor, CaseFilters(search=name.upper()))
        ).all()
        assert [c.id for c in listed] == [case.id], name
        # by one word of the name, and by a word spelled otherwise (old spelling, doubled
        # letters): the name keys, under every listed key
        first, *_, last = name.split()
        for term in (last.lower(), first.replace("a", "aa", 1).replace("u", "oe")):
            listed = db.session.scalars(list_cases_for(supervisor, CaseFilters(search=term)))
            assert case.id in {c.id for c in listed}, term
        by_nik = find_duplicates(agency.id, name=None, birth_date=None, nik=nik)
        assert [(h.case.id, h.matched_on) for h in by_nik] == [(case.id, "nik")]
        by_name = find_duplicates(agency.id, name=name.lower(), birth_date=born, nik=None)
        assert [(h.case.id, h.matched_on) for h in by_name] == [(case.id, "name_dob")]
        # a name alone, with another birth date, is not the same person
        assert (
            find_duplicates(agency.id, name=name, birth_date=born + dt.timedelta(days=1), nik=None)
            == []
        )


@pytest.fixture
def staff() -> tuple[Any, User, User]:
    agency = AgencyFactory()
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    return agency, manager, supervisor


def test_replacing_secret_key_ends_sessions_and_nothing_else(
    app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch, staff: Any
) -> None:
    agency, manager, supervisor = staff
    cases = _victims(agency, manager)
    login_as(client, supervisor)
    assert client.get("/kasus").status_code == 200
    _all_found(agency, supervisor, cases)

    monkeypatch.setitem(app.config, "SECRET_KEY", OTHER_SECRET)
    db.session.expire_all()
    # the session cookie was signed with the old key: signed out
    response = client.get("/kasus")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    # search and the duplicate check still find all of them
    _all_found(agency, supervisor, cases)


def test_stored_indexes_name_their_key_and_never_hold_the_value(
    app: Flask, monkeypatch: pytest.MonkeyPatch, staff: Any
) -> None:
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", KEY_A)
    agency, manager, _ = staff
    case = _victims(agency, manager)[0]
    victim = case.victims[0]
    for value in (victim.name_index, victim.nik_index, victim.person.name_dob_index):
        assert value.startswith("ba:") and len(value) == 3 + 64
        assert index_key_id(value) == "ba"
    assert victim.person.nik_index == victim.nik_index
    assert victim.nik_index != victim.name_index
    assert PEOPLE[0][1] not in victim.nik_index


def _legacy_index(purpose: str, value: str) -> str:
    """What releases before BLIND_INDEX_KEYS stored: keyed from SECRET_KEY."""
    secret = str(app_secret()).encode()
    key = hmac.new(secret, f"simpul-blind-index:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def app_secret() -> str:
    from flask import current_app

    return str(current_app.config["SECRET_KEY"])


def _make_legacy(victim_id: int) -> None:
    """Store a victim's indexes (and its person's) as an older release did."""
    victim = db.session.get(Victim, victim_id)
    name, nik, born = victim.name, victim.nik, victim.birth_date
    victims = db.metadata.tables["victims"]
    persons = db.metadata.tables["persons"]
    db.session.execute(
        sa.update(victims)
        .where(victims.c.id == victim_id)
        .values(
            name_index=_legacy_index("name", normalise_name(name)),
            nik_index=_legacy_index("nik", nik),
        )
    )
    db.session.execute(
        sa.update(persons)
        .where(persons.c.id == victim.person_id)
        .values(
            name_dob_index=_legacy_index("name+dob", f"{normalise_name(name)}|{born.isoformat()}"),
            nik_index=_legacy_index("nik", nik),
        )
    )
    db.session.commit()
    db.session.expire_all()


def _usage(tables: str = "columns") -> dict[str | None, int]:
    """Stored indexes per key id: of the indexes held in columns (``victims.name_index``…), or
    of the name keys (``victim_name_keys``, several rows per victim)."""
    total: dict[str | None, int] = {}
    for where, counts in count_index_keys().items():
        if ("." in where) != (tables == "columns"):
            continue
        for key, n in counts.items():
            total[key] = total.get(key, 0) + n
    return total


def _name_keys_of(cases: list[Any]) -> dict[str, int]:
    """The name keys of the victims of ``cases``, per key id."""
    from app.cases.models import VictimNameKey

    ids = [v.id for c in cases for v in c.victims]
    rows = db.session.execute(
        sa.select(VictimNameKey.key_id, sa.func.count())
        .where(VictimNameKey.victim_id.in_(ids))
        .group_by(VictimNameKey.key_id)
    ).all()
    return dict(rows)


def test_a_new_key_is_brought_in_by_reindexing_while_lookups_find_everyone(
    app: Flask, monkeypatch: pytest.MonkeyPatch, staff: Any
) -> None:
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", KEY_A)
    agency, manager, supervisor = staff
    cases = _victims(agency, manager)
    _make_legacy(cases[2].victims[0].id)  # written by a release keyed from SECRET_KEY
    assert _usage() == {"ba": 8, None: 4}
    name_keys_a = _name_keys_of(cases)
    assert set(name_keys_a) == {"ba"} and name_keys_a["ba"] > 0
    _all_found(agency, supervisor, cases)

    # a new key first, the old one still listed: everyone is still found before reindexing
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", f"{KEY_B},{KEY_A}")
    _all_found(agency, supervisor, cases)
    # what is written now uses the new key
    assert name_index("Siapa Saja").startswith("bb:")

    report = reindex_blind_indexes(batch_size=2)
    assert report.values_recomputed == 12
    assert report.before == {"ba": 8, None: 4}
    assert _usage() == {"bb": 12}
    assert _name_keys_of(cases) == {"bb": name_keys_a["ba"]}  # the same words, under bb
    checked, written = report.rebuilt["victim_name_keys"]
    assert checked >= 3 and written >= name_keys_a["ba"]
    again = reindex_blind_indexes()
    assert again.values_recomputed == 0  # idempotent
    assert again.rebuilt["victim_name_keys"][1] == 0

    # the old key and SECRET_KEY are no longer needed
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", KEY_B)
    monkeypatch.setitem(app.config, "SECRET_KEY", OTHER_SECRET)
    db.session.expire_all()
    _all_found(agency, supervisor, cases)
    person = db.session.get(Person, cases[2].victims[0].person_id)
    assert person.name_dob_index.startswith("bb:") and person.nik_index.startswith("bb:")


def test_reindexing_leaves_an_edit_made_meanwhile_alone(
    app: Flask, monkeypatch: pytest.MonkeyPatch, staff: Any
) -> None:
    """An index changed between the read and the write of a batch is not overwritten."""
    from app.core import crypto

    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", KEY_A)
    agency, manager, _ = staff
    victim_id = _victims(agency, manager)[0].victims[0].id
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", f"{KEY_B},{KEY_A}")
    spec = next(s for s in crypto.indexed_tables() if s.table == "victims")

    def recompute_while_someone_edits(ids: list[int]) -> Any:
        wanted = spec.recompute(ids)
        victims = db.metadata.tables["victims"]
        db.session.execute(  # the edit: a new name, indexed with the current key
            sa.update(victims)
            .where(victims.c.id == victim_id)
            .values(name_index=name_index("Nama Baru Sekali"))
        )
        return wanted

    monkeypatch.setitem(
        app.extensions["simpul_blind_index_tables"],
        "victims",
        crypto.IndexedTable("victims", spec.columns, recompute_while_someone_edits),
    )
    monkeypatch.delitem(app.extensions["simpul_blind_index_tables"], "persons")
    report = reindex_blind_indexes(batch_size=500)
    assert report.skipped_changed >= 1
    stored = db.session.scalar(sa.select(Victim.name_index).where(Victim.id == victim_id))
    assert stored == name_index("Nama Baru Sekali")


def test_reindex_and_status_commands(
    app: Flask, monkeypatch: pytest.MonkeyPatch, staff: Any, admin_user: Any
) -> None:
    from app.audit.models import AuditEntry

    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", KEY_A)
    agency, manager, _ = staff
    _victims(agency, manager)
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEYS", f"{KEY_B},{KEY_A}")
    runner = app.test_cli_runner()

    status = runner.invoke(args=["keys", "status"])
    assert status.exit_code == 0, status.output
    assert "current blind-index key: bb" in status.output
    assert "victims.name_index: ba: 3" in status.output
    assert "not yet reindexed" in status.output

    refused = runner.invoke(
        args=["keys", "reindex", "--email", admin_user.email], input="wrong password\n"
    )
    assert refused.exit_code != 0
    assert "victims:" not in refused.output

    result = runner.invoke(
        args=["keys", "reindex", "--email", admin_user.email, "--batch-size", "1"],
        input=f"{TEST_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "current blind-index key: bb" in result.output
    assert "victims: 1/" in result.output  # progress lines
    assert "persons: " in result.output
    assert "12 indexes recomputed" in result.output
    for name, nik, _born in PEOPLE:
        assert name not in result.output and nik not in result.output

    status = runner.invoke(args=["keys", "status"])
    assert "victim_name_keys: bb: " in status.output
    assert "all indexes: bb: " in status.output
    assert "every index uses the current blind-index key" in status.output
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(
            AuditEntry.actor_id == admin_user.id, AuditEntry.action.like("keys.reindex%")
        )
    ).all()
    assert actions == ["keys.reindex_start", "keys.reindex"]


# --- start-up ------------------------------------------------------------------------------------


def _bare_app(tmp_path: Any, **config: Any) -> Flask:
    app = Flask("bare", instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    return app


def test_production_refuses_to_start_without_blind_index_keys(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="BLIND_INDEX_KEYS is not set"):
        resolve_blind_index_keys(_bare_app(tmp_path, APP_ENV="production"))
    assert not (tmp_path / "instance" / "blind_index_keys").exists()
    with pytest.raises(ConfigError, match="BLIND_INDEX_KEYS"):
        resolve_blind_index_keys(
            _bare_app(tmp_path, APP_ENV="production", BLIND_INDEX_KEYS="ba:short")
        )
    # the same key as field encryption is refused
    shared = _bare_app(
        tmp_path,
        APP_ENV="production",
        BLIND_INDEX_KEYS=KEY_A,
        DATA_ENCRYPTION_KEYS="k1:" + KEY_A.split(":", 1)[1],
    )
    with pytest.raises(ConfigError, match="a key of their own"):
        resolve_blind_index_keys(shared)
    good = _bare_app(tmp_path, APP_ENV="production", BLIND_INDEX_KEYS=f"{KEY_B},{KEY_A}")
    resolve_blind_index_keys(good)
    assert parse_keys(good.config["BLIND_INDEX_KEYS"]).ids == ("bb", "ba")


def test_development_generates_one_blind_index_key_once(tmp_path: Any) -> None:
    first = _bare_app(tmp_path, APP_ENV="development")
    resolve_blind_index_keys(first)
    path = tmp_path / "instance" / "blind_index_keys"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = _bare_app(tmp_path, APP_ENV="testing", BLIND_INDEX_KEYS="")
    resolve_blind_index_keys(second)
    assert second.config["BLIND_INDEX_KEYS"] == first.config["BLIND_INDEX_KEYS"]
    assert parse_keys(first.config["BLIND_INDEX_KEYS"]).current_id == "dev1"


def test_the_application_has_blind_index_keys_of_its_own(app: Flask) -> None:
    index_keys = parse_keys(app.config["BLIND_INDEX_KEYS"])
    data_keys = parse_keys(app.config["DATA_ENCRYPTION_KEYS"])
    assert not {k for _, k in index_keys.keys} & {k for _, k in data_keys.keys}
