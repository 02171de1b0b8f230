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
import itertools
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


# --- name keys: any name, by token and by sound --------------------------------------------------
#
# A victim's name is also findable by any of its words, spelled the way Indonesian names are
# spelled in practice: old and new spelling (ejaan lama/baru), doubled letters, joined or
# separated words. The name is cut into normalised tokens (plus each pair of neighbouring tokens
# joined, for "Nur Hayati" / "Nurhayati"); each token gives a keyed hash of itself and of its
# phonetic keys. Only those hashes are stored (``victim_name_keys``), never the tokens.

NAME_TOKEN = "name-token"  # noqa: S105 (a purpose, not a secret)
NAME_SOUND = "name-sound"
NAME_PAIR_TOKEN = "name-pair-token"  # noqa: S105
NAME_PAIR_SOUND = "name-pair-sound"
NAME_KEY_HEX = 32
"""A name key is the first 128 bits of its HMAC: ample against accidental equality among a few
million rows, and half the index of a full digest."""

MAX_NAME_TOKENS = 8
"""Words of a name (or a search) that count; longer input is cut (a name is a few words)."""

_MUHAMMAD = frozenset(
    {"m", "mh", "mhd", "md", "moh", "muh", "mohd", "muhd", "moch", "much", "mochd"}
)
"""The usual abbreviations of Muhammad ("M. Rizki", "Moh. Yusuf"): they sound like the name."""
_ABDUL = frozenset({"abd"})

# old spelling and loose spelling, folded in this order (longer patterns first)
_FOLDS: tuple[tuple[str, str], ...] = (
    ("oe", "u"),  # ejaan lama: Soekarno → Sukarno
    ("dj", "j"),  # Djoko → Joko
    ("tj", "c"),  # Tjahjo → Cahyo
    ("sj", "sy"),  # Sjamsul → Syamsul
    ("nj", "ny"),  # Njoman → Nyoman
    ("ch", "kh"),  # Achmad → Akhmad (see _sounds: also read as "c", Chandra → Candra)
    ("ck", "k"),  # Hendrick → Hendrik
    ("kh", "h"),  # Akhmad → Ahmad
    ("sy", "s"),  # Syamsul → Samsul
    ("sh", "s"),  # Shinta → Sinta
    ("th", "t"),  # Fathimah → Fatimah
    ("dh", "d"),  # Ramadhan → Ramadan
    ("ph", "f"),
    ("j", "y"),  # old "j" for "y" (Jusuf → Yusuf); j and y are one sound class
    ("q", "k"),
    ("x", "ks"),
    ("v", "f"),
    ("f", "p"),  # Arif / Arip, Novi / Nofi / Nopi
)
_VOWELS = frozenset("aeiouy")
_FINAL_VOWEL = {"a": "a", "i": "i", "y": "i", "e": "e", "o": "o", "u": "u"}
_DEVOICED = {"d": "t", "b": "p", "g": "k"}


def name_tokens(name: str) -> list[str]:
    """The words of a name, normalised (``normalise_name``), letters and digits only, in order,
    at most ``MAX_NAME_TOKENS``."""
    words = normalise_name(name).replace("_", " ").split()
    return words[:MAX_NAME_TOKENS]


def _collapse(text: str) -> str:
    return re.sub(r"(.)\1+", r"\1", text)


def _sound(word: str) -> str:
    """One phonetic key of a normalised word (letters only). The first letter stays (a vowel
    as "a"); after it the consonant skeleton, "h" and vowels dropped, repeats collapsed; a final
    vowel stays as its class (Putra/Putri, Rina/Rino differ), a final "h" is silent
    (Fatimah/Fatima), a final d/b/g sounds as t/p/k (Ahmad/Ahmat)."""
    if word in _MUHAMMAD:
        word = "muhammad"
    elif word in _ABDUL:
        word = "abdul"
    word = _collapse(word)
    for old, new in _FOLDS:
        word = word.replace(old, new)
    word = _collapse(word)
    if word.endswith("ie"):  # Yanie → Yani
        word = word[:-2] + "i"
    while len(word) > 1 and word.endswith("h"):
        word = word[:-1]
    if not word:
        return ""
    first, rest = word[0], word[1:]
    head = "a" if first in _VOWELS and first != "y" else first
    final = _FINAL_VOWEL.get(rest[-1], "") if rest and rest[-1] in _VOWELS else ""
    body = "".join(c for c in rest if c not in _VOWELS and c != "h")
    if not final and body:
        body = body[:-1] + _DEVOICED.get(body[-1], body[-1])
    return _collapse(head + body) + ("|" + final if final else "")


_SECOND_READINGS = (("ch", "c"), ("tj", "ty"), ("kh", "k"))
"""Spellings that read two ways: "ch" as kh (Achmad) or c (Chandra); "tj" as c (Tjahjo) or
t + old "j" for y (Setjawati); "kh" as h (Akhmad/Ahmad) or k (Zulaikha/Zulaika)."""


def name_sounds(word: str) -> set[str]:
    """The phonetic keys of one normalised word: one, and another for each spelling that
    reads two ways (``_SECOND_READINGS``). Empty for a word with no letter."""
    letters = "".join(c for c in word if c.isalpha())
    if not letters:
        return set()
    sounds = {_sound(letters)}
    for spelled, read in _SECOND_READINGS:
        if spelled in letters:
            sounds.add(_sound(letters.replace(spelled, read)))
    sounds.discard("")
    return sounds


def _key(secret: bytes, purpose: str, value: str) -> str:
    return _digest(secret, purpose, value)[:NAME_KEY_HEX]


def name_keys(name: str) -> tuple[str, set[str]]:
    """The key id and the name keys to store for ``name`` under the current blind-index key:
    each word, by spelling and by sound; each two neighbouring words joined, the same, under
    purposes of their own ("Nur Hayati" is found by "Nurhayati"; a joined pair is never
    compared with words the search joined, where the vowel between them would be lost)."""
    key_id, secret = index_keyring().keys[0]
    tokens = name_tokens(name)
    keys: set[str] = set()
    for token in tokens:
        keys.add(_key(secret, NAME_TOKEN, token))
        keys.update(_key(secret, NAME_SOUND, s) for s in name_sounds(token))
    for first, second in itertools.pairwise(tokens):
        joined = first + second
        keys.add(_key(secret, NAME_PAIR_TOKEN, joined))
        keys.update(_key(secret, NAME_PAIR_SOUND, s) for s in name_sounds(joined))
    return key_id, keys


@dataclass(frozen=True)
class NameQuery:
    """A name searched for, as sets of stored name keys (under every listed key): a victim
    matches one of the ``alternatives`` (the words as typed, or two neighbours joined) when,
    for each of its words, it holds one of that word's keys. ``by_token``: by exact words;
    ``by_sound``: by phonetic keys (which include every spelling that sounds the same)."""

    by_token: tuple[tuple[frozenset[str], ...], ...]
    by_sound: tuple[tuple[frozenset[str], ...], ...]


def _word_variants(tokens: list[str]) -> list[list[tuple[str, bool]]]:
    """The words as typed, and with each pair of neighbours joined ("Nur Hayati" is also
    searched as "Nurhayati"), each word with whether it was joined here."""
    variants = [[(t, False) for t in tokens]]
    for i in range(len(tokens) - 1):
        variants.append(
            [
                *((t, False) for t in tokens[:i]),
                (tokens[i] + tokens[i + 1], True),
                *((t, False) for t in tokens[i + 2 :]),
            ]
        )
    return variants


def name_query(term: str) -> NameQuery | None:
    """The name keys a search for ``term`` looks for, or None when it holds no word of two or
    more characters (an initial alone finds nobody; initials beside a word are left out, but
    for the abbreviations of Muhammad). A word as typed matches a stored word or a stored
    joined pair; a word joined here matches a stored word only."""
    tokens = name_tokens(term)
    words = [t for t in tokens if len(t) >= 2 or t in _MUHAMMAD]
    if not any(len(t) >= 2 for t in words):
        return None
    secrets = [k for _id, k in index_keyring().keys]

    def spelled(word: str, joined: bool) -> frozenset[str]:
        purposes = (NAME_TOKEN,) if joined else (NAME_TOKEN, NAME_PAIR_TOKEN)
        return frozenset(_key(k, p, word) for k in secrets for p in purposes)

    def sounded(word: str, joined: bool) -> frozenset[str]:
        sounds = name_sounds(word)
        if not sounds:  # no letter (a number): by its spelling
            return spelled(word, joined)
        purposes = (NAME_SOUND,) if joined else (NAME_SOUND, NAME_PAIR_SOUND)
        return frozenset(_key(k, p, s) for k in secrets for p in purposes for s in sounds)

    variants = _word_variants(words)
    return NameQuery(
        tuple(tuple(spelled(w, j) for w, j in v) for v in variants),
        tuple(tuple(sounded(w, j) for w, j in v) for v in variants),
    )


# --- what `flask keys reindex` rebuilds ----------------------------------------------------------


@dataclass(frozen=True)
class RebuiltIndex:
    """A table of blind indexes held as rows (several per record), registered by the domain that
    owns it: ``flask keys reindex`` calls ``rebuild`` (batch size, echo) → (records checked, rows
    written), which rewrites, under the current key, the rows of every record not wholly under it
    — and writes those of records that have none yet; ``flask keys status`` counts its rows per
    ``key_column``."""

    table: str
    key_column: str
    rebuild: Callable[[int, Any], tuple[int, int]]


_REBUILT = "simpul_blind_index_rebuilt"


def register_rebuilt_index(app: Flask, spec: RebuiltIndex) -> None:
    specs: dict[str, RebuiltIndex] = app.extensions.setdefault(_REBUILT, {})
    specs[spec.table] = spec


def rebuilt_indexes(app: Flask | None = None) -> list[RebuiltIndex]:
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    specs: dict[str, RebuiltIndex] = app.extensions.get(_REBUILT, {})
    return [specs[name] for name in sorted(specs)]
