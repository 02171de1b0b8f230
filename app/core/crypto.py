"""Keyed hashes ("blind indexes") for exact-match search on identity fields without keeping a
searchable copy of the identity. The key is derived from ``SECRET_KEY`` for a purpose."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from flask import current_app

_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Case, accents, punctuation and spacing do not matter when matching names."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = re.sub(r"[^\w\s]", " ", letters.casefold())
    return _SPACES.sub(" ", letters).strip()


def blind_index(purpose: str, value: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hmac.new(secret, f"simpul-blind-index:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def name_index(name: str) -> str:
    return blind_index("name", normalise_name(name))


def name_dob_index(name: str, birth_date_iso: str) -> str:
    return blind_index("name+dob", f"{normalise_name(name)}|{birth_date_iso}")


def nik_index(nik: str) -> str:
    return blind_index("nik", re.sub(r"\D", "", nik))
