import pytest

from app.auth import operations as ops
from app.auth.passwords import hash_password, verify_password
from app.core.errors import DomainError


def test_hash_is_argon2id_with_the_required_cost():
    encoded = hash_password("sungai panjang mengalir ke laut")
    assert encoded.startswith("$argon2id$")
    params = dict(p.split("=") for p in encoded.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2


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
