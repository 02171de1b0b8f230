import pytest
from flask import Flask

from app.auth import operations as ops
from app.auth.passwords import TESTING_HASHER, hash_password, needs_rehash, verify_password
from app.core.errors import DomainError


def argon2_parameters(encoded: str) -> dict[str, int]:
    assert encoded.startswith("$argon2id$")
    return {k: int(v) for k, v in (p.split("=") for p in encoded.split("$")[3].split(","))}


@pytest.mark.parametrize("app_env", ["production", "development"])
def test_hash_is_argon2id_with_the_required_cost(app_env):
    """Production and development hash with the OWASP minimum, and a hash made with less is
    rehashed at the next sign-in."""
    other = Flask("passwords")
    other.config["APP_ENV"] = app_env
    with other.app_context():
        encoded = hash_password("sungai panjang mengalir ke laut")
        assert verify_password(encoded, "sungai panjang mengalir ke laut")
        assert not needs_rehash(encoded)
        assert needs_rehash(TESTING_HASHER.hash("sungai panjang mengalir ke laut"))
    params = argon2_parameters(encoded)
    assert params["m"] >= 19 * 1024
    assert params["t"] >= 2
    assert params["p"] == 1


def test_the_test_suite_hashes_cheaply(app):
    """APP_ENV=testing only: the cheapest argon2id parameters, and no rehash of its hashes."""
    assert app.config["APP_ENV"] == "testing"
    with app.app_context():
        encoded = hash_password("sungai panjang mengalir ke laut")
        assert argon2_parameters(encoded) == {"m": 8, "t": 1, "p": 1}
        assert verify_password(encoded, "sungai panjang mengalir ke laut")
        assert not needs_rehash(encoded)


def test_verify():
    encoded = hash_password("sungai panjang mengalir ke laut")
    assert verify_password(encoded, "sungai panjang mengalir ke laut")
    assert not verify_password(encoded, "sungai panjang")
    assert not verify_password(None, "sungai panjang mengalir ke laut")
    assert not verify_password("not-a-hash", "x")


@pytest.mark.parametrize(
    "password",
    [
        "pendek123",
        "password1234",
        "123456789012",
        "qwertyuiopas",
        "bismillah1234",
        "indonesia2025",
        "aaaaaaaaaaaaaaaa",
    ],
)
def test_short_or_common_passwords_are_refused(app, password):
    with pytest.raises(DomainError) as info:
        ops.check_password(password)
    assert info.value.field == "password"


def test_password_containing_the_users_name_is_refused(app):
    with pytest.raises(DomainError):
        ops.check_password("siti.rahmawati2025", email="siti@contoh.go.id", name="Siti Rahmawati")


def test_a_long_passphrase_is_accepted(app):
    ops.check_password("sungai panjang mengalir ke laut selatan")
