"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from zxcvbn import zxcvbn

from app.core.i18n import lazy_gettext as _l

# OWASP's argon2id minimum: 19 MiB of memory, 2 iterations, 1 degree of parallelism. Production
# and development hash with these.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# APP_ENV=testing only: argon2id's cheapest parameters (1 iteration, 8 KiB), so that the test
# suite's thousands of hashes and sign-ins do not each cost the 80 ms of a real one.
TESTING_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("APP_ENV") == "testing":
        return TESTING_HASHER
    return HASHER


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the account does not exist, so both cases cost the same time."""
    return hasher.hash("simpul-dummy-password-for-timing")


_dummy_hash(HASHER)  # computed at start, not during the first sign-in of an unknown account


# Words Indonesian users reach for that a general English dictionary does not hold.
LOCAL_COMMON_WORDS = (
    "bismillah",
    "sayang",
    "sayangku",
    "indonesia",
    "merdeka",
    "rahasia",
    "katasandi",
    "simpul",
    "uptdppa",
    "dinasppa",
    "jakarta",
    "bandung",
    "garuda",
    "pancasila",
    "alhamdulillah",
)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; costs the same whether or not ``password_hash`` exists."""
    hasher = _hasher()
    try:
        matches = hasher.verify(password_hash or _dummy_hash(hasher), password)
        return matches and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problems(password: str, *, min_length: int, user_inputs: list[str]) -> list[str]:
    """Reasons the password is refused (translated), or an empty list."""
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(
            str(_l("The password must be at least %(n)d characters long.", n=min_length))
        )
        return problems
    if len(password) > 256:
        problems.append(str(_l("The password must be at most 256 characters long.")))
        return problems
    lowered = password.lower()
    if any(len(part) >= 4 and part.lower() in lowered for part in user_inputs):
        problems.append(str(_l("The password must not contain your name or e-mail address.")))
        return problems
    result = zxcvbn(password[:100], user_inputs=[*LOCAL_COMMON_WORDS, *user_inputs])
    if result["score"] < 3:
        problems.append(
            str(
                _l(
                    "This password is too common or too easy to guess. Use a longer phrase "
                    "of several unrelated words."
                )
            )
        )
    return problems
