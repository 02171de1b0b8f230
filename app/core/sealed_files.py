"""Files encrypted at rest with a data key of their own (envelope encryption).

Each file gets a random 256-bit data key. The file is encrypted with it in chunks of
``CHUNK_SIZE`` bytes with AES-256-GCM (the cipher of ``app.core.encryption``), so a file of any
size is written and read as a stream and every chunk is authenticated before its bytes are used.
The caller keeps the data key wrapped under the current ``DATA_ENCRYPTION_KEYS`` key — for an
attachment, in the encrypted column ``attachments.data_key`` — so ``flask keys rotate`` re-wraps
the data keys without touching the files.

Layout of a sealed file::

    header  = MAGIC (8 bytes) ‖ chunk size (4 bytes, big-endian) ‖ nonce prefix (7 random bytes)
    chunk i = AES-256-GCM(data key, nonce = prefix ‖ i (4 bytes) ‖ last (1 byte),
                          plaintext chunk, associated data = header ‖ context)

Every chunk but the last holds exactly ``chunk size`` bytes of plaintext; the last one holds fewer
(possibly none) and is marked in its nonce, so a truncated file, reordered or dropped chunks, a
chunk of another file and a file moved to another name (the ``context``, e.g. the stored name)
all fail to decrypt. Error messages never hold content or keys.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
from collections.abc import Iterable, Iterator
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SMPLSF1\n"
CHUNK_SIZE = 64 * 1024
KEY_BYTES = 32
TAG_BYTES = 16
PREFIX_BYTES = 7
HEADER_BYTES = len(MAGIC) + 4 + PREFIX_BYTES
MAX_CHUNK_SIZE = 16 * 1024 * 1024  # a header asking for more is damaged, not obeyed


class SealedFileError(RuntimeError):
    """A sealed file does not decrypt: damaged, truncated, moved, or the wrong key."""


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise SealedFileError("a data key is damaged (not base64)") from None
    if len(key) != KEY_BYTES:
        raise SealedFileError("a data key is damaged (wrong length)")
    return key


def is_sealed(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a sealed file (no accepted upload starts so)."""
    return head.startswith(MAGIC)


def sealed_size(plain_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """The length on disk of a sealed file holding ``plain_size`` bytes (header, and one tag per
    chunk, the last chunk always written even when empty)."""
    return HEADER_BYTES + plain_size + TAG_BYTES * (plain_size // chunk_size + 1)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise SealedFileError("a sealed file has too many chunks")
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _rechunk(source: Iterable[bytes], size: int) -> Iterator[bytes]:
    """``source``'s bytes in pieces of exactly ``size`` (the last one shorter, maybe empty)."""
    pending = bytearray()
    for piece in source:
        pending += piece
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    yield bytes(pending)


def seal(source: Iterable[bytes], sink: IO[bytes], key: bytes, context: str) -> int:
    """Write ``source`` (pieces of plaintext, any sizes) sealed into ``sink``; the number of
    plaintext bytes written."""
    prefix = secrets.token_bytes(PREFIX_BYTES)
    header = MAGIC + struct.pack(">I", CHUNK_SIZE) + prefix
    aad = header + context.encode("utf-8")
    cipher = AESGCM(key)
    sink.write(header)
    total = 0
    index = 0
    chunks = _rechunk(source, CHUNK_SIZE)
    current = next(chunks)
    for following in chunks:
        sink.write(cipher.encrypt(_nonce(prefix, index, False), current, aad))
        total += len(current)
        index += 1
        current = following
    sink.write(cipher.encrypt(_nonce(prefix, index, True), current, aad))
    return total + len(current)


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        piece = stream.read(n - len(out))
        if not piece:
            break
        out += piece
    return bytes(out)


def unseal(stream: IO[bytes], key: bytes, context: str) -> Iterator[bytes]:
    """The plaintext of a sealed file, chunk by chunk, each authenticated before it is given
    out; raises ``SealedFileError`` at the first chunk that fails, and at the end of a truncated
    file."""
    header = _read_exactly(stream, HEADER_BYTES)
    if len(header) != HEADER_BYTES or not is_sealed(header):
        raise SealedFileError("not a sealed file")
    (chunk_size,) = struct.unpack(">I", header[len(MAGIC) : len(MAGIC) + 4])
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise SealedFileError("a sealed file is damaged (chunk size)")
    prefix = header[len(MAGIC) + 4 :]
    aad = header + context.encode("utf-8")
    cipher = AESGCM(key)
    full = chunk_size + TAG_BYTES
    index = 0
    while True:
        block = _read_exactly(stream, full)
        last = len(block) < full
        if last and len(block) < TAG_BYTES:
            raise SealedFileError("a sealed file is truncated")
        try:
            plain = cipher.decrypt(_nonce(prefix, index, last), block, aad)
        except InvalidTag:
            raise SealedFileError(
                "a sealed file does not decrypt: damaged, truncated, moved or the wrong key"
            ) from None
        yield plain
        if last:
            if stream.read(1):
                raise SealedFileError("a sealed file has bytes after its last chunk")
            return
        index += 1
