"""The TOTP second factor (RFC 6238, 30-second steps, 6 digits), its recovery codes, and the
deployment policy saying who must use it (``TOTP_REQUIRED``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, MutableMapping
from typing import Any

import pyotp
import segno

from app.config import ConfigError
from app.core.enums import Role
from app.core.permissions import CASE_DATA_PERMISSIONS as CASE_DATA_PERMISSIONS  # re-exported
from app.core.permissions import CASE_DATA_ROLES

ISSUER = "Simpul"
STEP_SECONDS = 30
DIGITS = 6
# Codes of the previous and the next step are accepted too (clock drift of a phone).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
# Crockford's base32: no i, l, o, u; what people type is normalised (o→0, i/l→1).
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

TOTP_POLICIES = ("case_roles", "all", "none")


def _case_roles() -> frozenset[Role]:
    """Roles whose permissions open case data, and the administrator, who can grant a case role
    to another account — one they may have made themselves — and so reaches case data in two
    steps (re-authenticated, and told to the agency's supervisors, but possible)."""
    return CASE_DATA_ROLES | {Role.ADMIN}


CASE_ROLES: frozenset[Role] = _case_roles()


def resolve_totp_setting(config: MutableMapping[str, Any]) -> None:
    """Fill in the environment's default ``TOTP_REQUIRED`` (``case_roles`` in production,
    ``none`` otherwise) and refuse an unknown value."""
    value = config.get("TOTP_REQUIRED")
    if not value:
        value = "case_roles" if config.get("APP_ENV") == "production" else "none"
    value = str(value).strip().lower()
    if value not in TOTP_POLICIES:
        raise ConfigError(f"TOTP_REQUIRED must be one of {', '.join(TOTP_POLICIES)}, not {value!r}")
    config["TOTP_REQUIRED"] = value


def totp_required(policy: str, roles: Iterable[Role]) -> bool:
    """Whether a user holding ``roles`` must sign in with a second factor under ``policy``."""
    if policy == "all":
        return True
    if policy == "case_roles":
        return any(role in CASE_ROLES for role in roles)
    return False


# --- codes -----------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (within the allowed drift), or None."""
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    found: int | None = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        # compare every candidate, so the time taken does not say which one matched
        if hmac.compare_digest(totp.at(candidate * STEP_SECONDS), code) and found is None:
            found = candidate
    return found


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as a PNG data: URI (the CSP allows ``img-src data:``)."""
    return str(segno.make(uri, error="m").png_data_uri(scale=5, border=2))


# --- recovery codes --------------------------------------------------------------------------


def new_recovery_codes() -> list[str]:
    """Fresh codes, shown to the user as ``xxxxx-xxxxx``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    code = normalise_code(code)
    return code.replace("o", "0").replace("i", "1").replace("l", "1")


def looks_like_recovery_code(code: str) -> bool:
    code = normalise_recovery_code(code)
    return len(code) == RECOVERY_CODE_LENGTH and all(c in _RECOVERY_ALPHABET for c in code)


def hash_recovery_code(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{normalise_recovery_code(code)}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def recovery_code_matches(stored: str, code: str) -> bool:
    try:
        scheme, salt, _ = stored.split("$", 2)
    except ValueError:
        return False
    if scheme != "sha256":
        return False
    return hmac.compare_digest(hash_recovery_code(code, salt), stored)
