"""Keyed hashes ("blind indexes") for exact-match search and duplicate detection on identity
fields without keeping a searchable copy of the identity. Every blind index of the application
is computed here, and only here.

Keys come from the setting ``BLIND_INDEX_KEYS``, in the format of ``DATA_ENCRYPTION_KEYS``:
``id:base64key`` pairs separated by commas, the current key first. Each purpose (``name``,
``nik``, ``name+dob`` …) gets its own key, derived from the configured one, so two indexes of the
same text under different purposes never compare equal.

A stored index is ``<key id>:<64 hex digits>``: it says which key made it. New values are made
with the current key; a lookup matches the value under every listed key, so search and the
duplicate check keep finding people while ``flask keys reindex`` recomputes the stored values
with a new key. A stored value of 64 hex digits without a key id is **legacy**: releases before
``BLIND_INDEX_KEYS`` keyed it from ``SECRET_KEY``. It is matched (computed from the current
``SECRET_KEY``) until ``flask keys reindex`` has replaced it; after that, replacing
``SECRET_KEY`` only ends sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from app.config import ConfigError
from app.core.encryption import (
    KeyConfigError,
    KeyRing,
    instance_keys,
    parse_keys,
)

SETTING = "BLIND_INDEX_KEYS"
INSTANCE_FILE = "blind_index_keys"
_CACHE = "simpul_blind_index_keys"
_SEPARATOR = ":"
_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Case, accents, punctuation and spacing do not matter when matching names."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = re.sub(r"[^\w\s]", " ", letters.casefold())
    return _SPACES.sub(" ", letters).strip()


def normalise_nik(nik: str) -> str:
    return re.sub(r"\D", "", nik)


# --- keys ----------------------------------------------------------------------------------------


def resolve_blind_index_keys(app: Flask) -> None:
    """Settle ``BLIND_INDEX_KEYS`` at start-up: production refuses to start without valid keys;
    development and testing generate one key ``dev1`` once into ``instance/blind_index_keys``.
    Raises ConfigError."""
    raw = app.config.get(SETTING)
    if not raw:
        if app.config.get("APP_ENV") == "production":
            raise ConfigError(f"refusing to start in production: {SETTING} is not set")
        raw = instance_keys(app, INSTANCE_FILE)
        app.config[SETTING] = raw
    try:
        ring = parse_keys(raw, SETTING)
    except KeyConfigError as exc:
        raise ConfigError(str(exc)) from None
    data_keys = app.config.get("DATA_ENCRYPTION_KEYS")
    if data_keys:
        try:
            reused = {key for _, key in ring.keys} & {key for _, key in parse_keys(data_keys).keys}
        except KeyConfigError:
            reused = set()  # DATA_ENCRYPTION_KEYS reports its own error
        if reused:
            raise ConfigError(
                f"a key of {SETTING} is also a key of DATA_ENCRYPTION_KEYS: give the blind "
                "indexes a key of their own (`flask keys generate`)"
            )


def index_keyring(app: Flask | None = None) -> KeyRing:
    """The blind-index keys of ``app`` (default: the current app), parsed once per value."""
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    raw = app.config.get(SETTING)
    cached = app.extensions.get(_CACHE)
    if cached is not None and cached[0] == raw:
        return cached[1]  # type: ignore[no-any-return]
    ring = parse_keys(raw, SETTING)
    app.extensions[_CACHE] = (raw, ring)
    return ring


def _digest(secret: bytes, purpose: str, value: str) -> str:
    key = hmac.new(secret, f"simpul-blind-index:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _legacy(purpose: str, value: str) -> str:
    """The value releases before ``BLIND_INDEX_KEYS`` stored: keyed from ``SECRET_KEY``."""
    return _digest(str(current_app.config["SECRET_KEY"]).encode(), purpose, value)


def index_key_id(stored: str) -> str | None:
    """The key id a stored index was made with; None for a legacy (``SECRET_KEY``) value."""
    key_id, sep, _digest_hex = stored.rpartition(_SEPARATOR)
    return key_id if sep else None


# --- computing and matching ----------------------------------------------------------------------


def blind_index(purpose: str, value: str) -> str:
    """The index of an already normalised ``value`` under the current key, as stored."""
    ring = index_keyring()
    key_id, secret = ring.keys[0]
    return f"{key_id}{_SEPARATOR}{_digest(secret, purpose, value)}"


def blind_index_candidates(purpose: str, value: str) -> list[str]:
    """Every stored form the index of ``value`` may have: under each listed key, current first,
    then the legacy one. Lookups match any of them."""
    ring = index_keyring()
    found = [f"{key_id}{_SEPARATOR}{_digest(key, purpose, value)}" for key_id, key in ring.keys]
    found.append(_legacy(purpose, value))
    return found


def matches(column: Any, purpose: str, value: str) -> Any:
    """A SQL condition: ``column`` holds the index of ``value`` under any listed key."""
    return column.in_(blind_index_candidates(purpose, value))


# The indexes of identity fields. Purposes are part of the key: never rename one.
NAME = "name"
NIK = "nik"
NAME_DOB = "name+dob"


def name_index(name: str) -> str:
    return blind_index(NAME, normalise_name(name))


def nik_index(nik: str) -> str:
    return blind_index(NIK, normalise_nik(nik))


def name_dob_index(name: str, birth_date_iso: str) -> str:
    return blind_index(NAME_DOB, f"{normalise_name(name)}|{birth_date_iso}")


def name_matches(column: Any, name: str) -> Any:
    """``column`` (a name index) holds the index of ``name`` under any listed key."""
    return matches(column, NAME, normalise_name(name))


def nik_matches(column: Any, nik: str) -> Any:
    """``column`` (a NIK index) holds the index of ``nik`` under any listed key."""
    return matches(column, NIK, normalise_nik(nik))


# --- what `flask keys reindex` recomputes --------------------------------------------------------

Recompute = Callable[[list[Any]], dict[Any, dict[str, str | None]]]
"""Given the primary keys of a batch of rows, the value each index column of each row should
hold under the current key, computed from the row's (decrypted) identity. A row left out of the
answer has nothing to recompute from and is left as it is."""


@dataclass(frozen=True)
class IndexedTable:
    """A table holding blind indexes, registered by the domain that owns it (core knows no
    victims): ``flask keys reindex`` and ``flask keys status`` go through every one."""

    table: str
    columns: tuple[str, ...]
    recompute: Recompute


_REGISTRY = "simpul_blind_index_tables"


def register_indexed_table(app: Flask, spec: IndexedTable) -> None:
    tables: dict[str, IndexedTable] = app.extensions.setdefault(_REGISTRY, {})
    tables[spec.table] = spec


def indexed_tables(app: Flask | None = None) -> list[IndexedTable]:
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    tables: dict[str, IndexedTable] = app.extensions.get(_REGISTRY, {})
    return [tables[name] for name in sorted(tables)]
