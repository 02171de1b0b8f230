"""Encryption at rest of identifying fields (issue #7 item 4).

A column of type ``EncryptedText("table.column")`` holds
``enc1:<key id>:<base64(12-byte nonce + AES-256-GCM ciphertext and tag)>``. The associated data
is the column's ``table.column`` name, so a value copied into another column does not decrypt.
A stored value without the ``enc1:`` prefix is legacy plaintext, returned as it is until
``flask keys rotate`` encrypts it. NULL stays NULL. ``EncryptedJSON`` and ``EncryptedDate`` store
a JSON document and a date the same way, as text.

Keys come from the setting ``DATA_ENCRYPTION_KEYS``: ``id:base64key`` pairs separated by commas,
the current key (used to encrypt) first; every listed key decrypts. Exact-match search and
duplicate detection use the blind indexes of ``app.core.crypto``, never the encrypted columns:
an encrypted column cannot be compared, searched or sorted in SQL (the comparator refuses).

Messages of the exceptions here name the column and the key id, never a value or a key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app, has_app_context
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators

from app.config import ConfigError

PREFIX = "enc1"
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
SETTING = "DATA_ENCRYPTION_KEYS"
INSTANCE_FILE = "data_keys"
_CACHE = "simpul_data_keys"


class EncryptionError(RuntimeError):
    """Encryption or decryption cannot be done; the message never holds a value or a key."""


class KeyConfigError(EncryptionError):
    """``DATA_ENCRYPTION_KEYS`` is missing or malformed."""


class UnknownKeyError(EncryptionError):
    """A stored value names a key id that is not (any longer) configured."""


class DecryptionError(EncryptionError):
    """A stored value does not decrypt: wrong key, damaged, or moved from another column."""


@dataclass(frozen=True)
class KeyRing:
    """The configured keys, in order; the first one encrypts."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self.keys)

    def cipher(self, key_id: str) -> AESGCM:
        for candidate, key in self.keys:
            if candidate == key_id:
                return AESGCM(key)
        raise UnknownKeyError(
            f"data encryption key {key_id!r} is not configured in {SETTING}: add it back "
            "(after the current key) until `flask keys rotate` has re-encrypted every value"
        )


def _decode_key(text: str, setting: str = SETTING) -> bytes:
    text = text.strip()
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(text.encode("ascii") + b"=" * (-len(text) % 4))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
        if len(raw) == KEY_BYTES:
            return raw
    raise KeyConfigError(f"a key of {setting} is not the base64 of {KEY_BYTES} bytes")


def parse_keys(raw: str | None, setting: str = SETTING) -> KeyRing:
    """``id:base64key,id:base64key`` → a KeyRing. Raises KeyConfigError (without the keys).
    ``setting`` names the setting in the messages (``BLIND_INDEX_KEYS`` has the same format)."""
    if not raw or not raw.strip():
        raise KeyConfigError(f"{setting} is not set")
    keys: list[tuple[str, bytes]] = []
    for position, item in enumerate(raw.split(","), start=1):
        item = item.strip()
        if not item:
            continue
        key_id, sep, key_text = item.partition(":")
        key_id = key_id.strip()
        if not sep or not KEY_ID.match(key_id):
            raise KeyConfigError(
                f"entry {position} of {setting} is not `id:base64key` with an id of letters, "
                "digits, - or _"
            )
        if any(key_id == seen for seen, _ in keys):
            raise KeyConfigError(f"key id {key_id!r} is listed twice in {setting}")
        try:
            keys.append((key_id, _decode_key(key_text, setting)))
        except KeyConfigError as exc:
            raise KeyConfigError(f"key {key_id!r}: {exc}") from None
    if not keys:
        raise KeyConfigError(f"{setting} lists no key")
    return KeyRing(tuple(keys))


def generate_key(key_id: str | None = None) -> str:
    """A new ``id:base64key`` entry for ``DATA_ENCRYPTION_KEYS`` (or ``BLIND_INDEX_KEYS``)."""
    if key_id is None:
        key_id = f"k{dt.datetime.now(dt.UTC):%Y%m%d}{secrets.token_hex(2)}"
    if not KEY_ID.match(key_id):
        raise KeyConfigError("a key id is 1 to 40 letters, digits, - or _")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def instance_keys(app: Flask, filename: str = INSTANCE_FILE) -> str:
    """Development and testing only: one key ``dev1`` generated once into ``instance/<filename>``
    (0600). Concurrent first starts agree: the file is created atomically and never
    overwritten."""
    path = Path(app.instance_path) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{filename}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_key("dev1") + "\n")
            with contextlib.suppress(FileExistsError):  # another process got there first
                os.link(temp, path)
        finally:
            temp.unlink(missing_ok=True)
    return path.read_text().strip()


def resolve_data_keys(app: Flask) -> None:
    """Settle ``DATA_ENCRYPTION_KEYS`` at start-up: production refuses to start without valid
    keys; development and testing generate one key once into ``instance/``. Raises ConfigError."""
    raw = app.config.get(SETTING)
    if not raw:
        if app.config.get("APP_ENV") == "production":
            raise ConfigError(f"refusing to start in production: {SETTING} is not set")
        raw = instance_keys(app)
        app.config[SETTING] = raw
    try:
        parse_keys(raw)
    except KeyConfigError as exc:
        raise ConfigError(str(exc)) from None


def keyring(app: Flask | None = None) -> KeyRing:
    """The keys of ``app`` (default: the current app), parsed once per configured value."""
    if app is None:
        if not has_app_context():
            raise EncryptionError("encrypted columns are read and written in an app context")
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    raw = app.config.get(SETTING)
    cached = app.extensions.get(_CACHE)
    if cached is not None and cached[0] == raw:
        return cached[1]  # type: ignore[no-any-return]
    ring = parse_keys(raw)
    app.extensions[_CACHE] = (raw, ring)
    return ring


def encrypt_value(plaintext: str, context: str, ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = ring.cipher(ring.current_id).encrypt(
        nonce, plaintext.encode("utf-8"), context.encode("utf-8")
    )
    return f"{PREFIX}:{ring.current_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX + ":")


def stored_key_id(stored: str) -> str | None:
    """The key id of a stored value, or None for legacy plaintext."""
    if not is_encrypted(stored):
        return None
    return stored.split(":", 2)[1]


def decrypt_value(stored: str, context: str, ring: KeyRing | None = None) -> str:
    """The plaintext of a stored value; legacy plaintext (no ``enc1:`` prefix) as it is."""
    if not is_encrypted(stored):
        return stored
    parts = stored.split(":", 2)
    if len(parts) != 3:
        raise DecryptionError(f"a value of {context} is damaged (no key id)")
    key_id, payload = parts[1], parts[2]
    ring = ring or keyring()
    cipher = ring.cipher(key_id)
    try:
        blob = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"a value of {context} is damaged (not base64)") from None
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError(f"a value of {context} is damaged (too short)")
    try:
        plain = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag:
        raise DecryptionError(
            f"a value of {context} does not decrypt with key {key_id!r}: wrong key, damaged, "
            "or copied from another column"
        ) from None
    return plain.decode("utf-8")


# Operators an encrypted column still accepts: NULL tests (each value has a random nonce, so
# equality, LIKE, IN and ordering would be silently wrong).
_NULL_TESTS = {operators.is_, operators.is_not}


class EncryptedText(sa.TypeDecorator[str]):
    """Text encrypted with AES-256-GCM; the argument is the column's ``table.column`` name,
    bound into each value as associated data (``tests/security`` checks it matches)."""

    impl = sa.Text
    cache_ok = True

    class Comparator(sa.TypeDecorator.Comparator[str]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in _NULL_TESTS or (
                op in (operators.eq, operators.ne) and len(other) == 1 and other[0] is None
            ):
                return super().operate(op, *other, **kwargs)
            raise EncryptionError(
                "an encrypted column cannot be compared, searched or sorted in SQL; "
                "use its blind index (app.core.crypto)"
            )

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            raise EncryptionError("an encrypted column cannot be compared in SQL")

    comparator_factory = Comparator

    def __init__(self, context: str) -> None:
        super().__init__()
        if context.count(".") != 1:
            raise ValueError("EncryptedText needs the column's 'table.column' name")
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise EncryptionError(f"{self.context} takes text")
        return encrypt_value(value, self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return decrypt_value(value, self.context)

    def copy(self, **kwargs: Any) -> EncryptedText:
        return EncryptedText(self.context)


class EncryptedJSON(EncryptedText):
    """A JSON document (dict or list) encrypted as a whole, like ``EncryptedText``. Legacy
    plaintext (the JSON text of a column that was plain JSON) is read as it is."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return super().process_bind_param(text, dialect)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        text = super().process_result_value(value, dialect)
        return None if text is None else json.loads(text)

    def copy(self, **kwargs: Any) -> EncryptedJSON:
        return EncryptedJSON(self.context)


class EncryptedDate(EncryptedText):
    """A date encrypted as its ISO text (``YYYY-MM-DD``), like ``EncryptedText``. Legacy
    plaintext (the text of a column that was a plain DATE) is read as it is. Like every encrypted
    column it cannot be compared or sorted in SQL: keep what reports count or filter on in a clear
    column derived from it (``victims.age_at_incident`` for a birth date)."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise EncryptionError(f"{self.context} takes a date")
        return super().process_bind_param(value.isoformat(), dialect)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        text = super().process_result_value(value, dialect)
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(text.strip()[:10])
        except ValueError:
            raise DecryptionError(f"a value of {self.context} is not a date") from None

    def copy(self, **kwargs: Any) -> EncryptedDate:
        return EncryptedDate(self.context)


def encrypted_columns(metadata: sa.MetaData) -> Iterator[tuple[sa.Table, list[sa.Column[Any]]]]:
    """Every table with encrypted columns, with those columns, in a stable order."""
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            yield table, columns


def key_usage(counts: Mapping[str | None, int]) -> str:
    """``dev1: 12, legacy plaintext: 3`` for a progress or status line."""
    return ", ".join(
        f"{'legacy plaintext' if key is None else key}: {n}"
        for key, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    )
