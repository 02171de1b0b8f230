"""Reads shared by the parts of one rendered page.

A page built from independent parts (the case page's sections, each domain's own) asks the
database the same questions more than once: the case's service tracks, its notes, a victim's
consent ledger. Inside ``shared_reads()`` those reads are made once and handed to every part that
asks; outside it every call reads afresh, so operations and other pages see exactly what they
saw before. The block covers only the rendering (after the request's writes): nothing it
remembers can go stale while it is open.

    with shared_reads():
        html = render_template(...)          # the parts call read_once / read_each

    def notes_of(case):
        return read_once(("notes", case.id), lambda: list(db.session.scalars(...)))
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from flask import g, has_app_context

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_KEY = "_shared_reads"


def _store() -> dict[Hashable, Any] | None:
    if not has_app_context():
        return None
    return cast("dict[Hashable, Any] | None", g.get(_KEY))


@contextmanager
def shared_reads() -> Iterator[None]:
    """Share the reads made in the block (nested blocks share the outer one's)."""
    outer = _store()
    if outer is not None:
        yield
        return
    setattr(g, _KEY, {})
    try:
        yield
    finally:
        g.pop(_KEY, None)


def reads_shared() -> bool:
    """Whether a ``shared_reads()`` block is open (a page is being rendered)."""
    return _store() is not None


def read_once(key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, made once per ``key`` inside ``shared_reads()`` (every time outside)."""
    store = _store()
    if store is None:
        return read()
    if key not in store:
        store[key] = read()
    return cast(T, store[key])


def read_each(kind: str, keys: Iterable[K], read: Callable[[list[K]], Mapping[K, V]]) -> dict[K, V]:
    """The value of each key, ``read(missing)`` asked once for the keys not yet read (every
    key outside ``shared_reads()``). ``read`` answers every key it is given."""
    wanted = list(dict.fromkeys(keys))
    store = _store()
    if store is None:
        return dict(read(wanted)) if wanted else {}
    missing = [k for k in wanted if (kind, k) not in store]
    if missing:
        found = read(missing)
        for k in missing:
            store[(kind, k)] = found[k]
    return {k: cast(V, store[(kind, k)]) for k in wanted}


def seed(kind: str, values: Mapping[K, V]) -> None:
    """Give ``read_each(kind, …)`` values already read (nothing outside ``shared_reads()``)."""
    store = _store()
    if store is not None:
        for k, v in values.items():
            store[(kind, k)] = v
