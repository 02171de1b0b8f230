"""Whole-run identity scan (issue #7 item 4): no seeded identity appears in a log line, a URL,
an error page, a task message or an e-mail after a full test run.

During the session every plaintext value written to an identity column is learned, and every
output that must never hold one is kept (compressed). At the end of the session all outputs are
scanned for all identities at once, so an identity written late is still found in an early log
line; any hit fails the run with a report that names the column, the masked value and the place.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import json
import logging
import pickle
import re
import shutil
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

# Identity columns (``table.column`` of their EncryptedText) and the shape each must have to count
# as a real identity.
NAME_COLUMNS = frozenset(
    {
        "victims.name",
        "guardians.name",
        "witnesses.name",
        "perpetrators.name",
        "cases.reporter_name",
        "consent_entries.given_by_name",
        "victims.tppo_recruiter",  # a third person's name
    }
)
NIK_COLUMNS = frozenset({"victims.nik"})
PHONE_COLUMNS = frozenset(
    {"victims.phone", "guardians.phone", "witnesses.phone", "cases.reporter_phone"}
)
ADDRESS_COLUMNS = frozenset({"victims.address"})
IDENTITY_COLUMNS = NAME_COLUMNS | NIK_COLUMNS | PHONE_COLUMNS | ADDRESS_COLUMNS

# Fields of a demo import record (app/demo) holding identities: (section, field) → column.
DEMO_COLUMNS = {
    ("victims", "name"): "victims.name",
    ("victims", "nik"): "victims.nik",
    ("victims", "phone"): "victims.phone",
    ("victims", "address"): "victims.address",
    ("guardians", "name"): "guardians.name",
    ("guardians", "phone"): "guardians.phone",
    ("witnesses", "name"): "witnesses.name",
    ("witnesses", "phone"): "witnesses.phone",
    ("perpetrators", "name"): "perpetrators.name",
    ("reporter", "name"): "cases.reporter_name",
    ("reporter", "phone"): "cases.reporter_phone",
    ("consents", "given_by_name"): "consent_entries.given_by_name",
}

# Statuses whose body is an error page; 422 is a form shown again with the user's own input.
ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 410, 413, 429, 500, 503})

LOG, URL, REDIRECTED_URL, ERROR_PAGE, TASK, MAIL = (
    "log",
    "URL",
    "redirected URL",
    "error page",
    "task message",
    "e-mail",
)
# A request address the application answered with a redirect: the request came from the test
# (e.g. an old bookmark carrying a name) and the application's answer, the Location, is
# scanned on its own. A hit here is reported as a note and does not fail the run.
NOTED_CHANNELS = frozenset({REDIRECTED_URL})

_NAME_CHARS = re.compile(r"[^\W\d_]+(?:[ '.\-]+[^\W\d_]+)*[.]?")
_NAME_WORD = re.compile(r"[^\W\d_]+")
_NIK = re.compile(r"\d{16}")
_PHONE = re.compile(r"(?:\+62|62|08)\d{8,12}")
_MAX_NAME = 120
_CHUNK_CHARS = 4_000_000
_SEPARATOR = "\n\x00\n"


def identity_kind(column: str, value: str) -> str | None:
    """``name``/``nik``/``phone``/``address`` when ``value`` of ``column`` looks like a real
    seeded identity; None for other columns and for generated junk ("0", "<script>", "aaaa")."""
    value = value.strip()
    if column in NAME_COLUMNS:
        return "name" if looks_like_name(value) else None
    if column in NIK_COLUMNS:
        return "nik" if _NIK.fullmatch(value) else None
    if column in PHONE_COLUMNS:
        return "phone" if _PHONE.fullmatch(value) else None
    if column in ADDRESS_COLUMNS:
        words = [w for w in _NAME_WORD.findall(value) if len(w) >= 3]
        return "address" if len(value) >= 10 and len(words) >= 2 else None
    return None


def looks_like_name(value: str) -> bool:
    """Two or more words of at least 3 letters, or one word of at least 8 letters (not one
    letter repeated); only letters, spaces, apostrophes, dots and hyphens."""
    if len(value) > _MAX_NAME or not _NAME_CHARS.fullmatch(value):
        return False
    words = _NAME_WORD.findall(value)
    if sum(len(word) >= 3 for word in words) >= 2:
        return True
    return len(words) == 1 and len(words[0]) >= 8 and len(set(words[0].lower())) >= 4


def mask(value: str) -> str:
    """What a report may show of an identity: its first two characters and its length."""
    return f"{value[:2]}… ({len(value)} chars)"


def trie_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regular expression matching any of ``words``, built as a trie so that each position
    of a text is tried against the few branches of its first character only."""
    trie: dict[str, Any] = {}
    for word in words:
        if not word:
            continue
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return None

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches: list[str] = []
        for char in sorted(c for c in node if c):
            text, child = re.escape(char), node[char]
            while len(child) == 1 and "" not in child:  # a chain of single letters
                (next_char,) = child
                text += re.escape(next_char)
                child = child[next_char]
            branches.append(text + build(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return re.compile(build(trie))


@dataclass(frozen=True)
class Finding:
    """An identity found in an output; ``where`` and ``test`` are already masked."""

    column: str
    masked: str
    channel: str
    where: str
    test: str

    @property
    def noted(self) -> bool:
        return self.channel in NOTED_CHANNELS


def _starts(texts: list[str]) -> list[int]:
    """Where each text begins once the texts are joined by the separator."""
    starts, position = [], 0
    for text in texts:
        starts.append(position)
        position += len(text) + len(_SEPARATOR)
    return starts


@dataclass
class _Chunk:
    """Outputs kept compressed: one text joined by separators, with each output's metadata."""

    blob: bytes
    starts: list[int]
    meta: list[tuple[str, str, str]]


class IdentityScanner:
    """Learns identities and keeps outputs; :meth:`scan` finds every identity in every output,
    whatever the order in which they were seen. Thread-safe (a served app answers on threads)."""

    def __init__(self, chunk_chars: int = _CHUNK_CHARS) -> None:
        self.identities: dict[str, str] = {}  # value → column
        self.counts: dict[str, int] = dict.fromkeys(
            (LOG, URL, REDIRECTED_URL, ERROR_PAGE, TASK, MAIL), 0
        )
        self.current_test = "(session setup)"
        self._chunk_chars = chunk_chars
        self._seen: set[bytes] = set()
        self._texts: list[str] = []
        self._meta: list[tuple[str, str, str]] = []
        self._size = 0
        self._chunks: list[_Chunk] = []
        self._lock = threading.Lock()

    def learn(self, column: str, value: str) -> bool:
        """Remember ``value`` written to ``column`` if it looks like a real identity."""
        value = value.strip()
        if value in self.identities:
            return True
        if identity_kind(column, value) is None:
            return False
        with self._lock:
            self.identities.setdefault(value, column)
        return True

    def see(self, channel: str, where: str, text: str) -> None:
        """Keep an output; an output already kept (same channel, same text) counts only."""
        digest = hashlib.blake2b(f"{channel}\x00{text}".encode(), digest_size=12).digest()
        with self._lock:
            self.counts[channel] = self.counts.get(channel, 0) + 1
            if digest in self._seen:
                return
            self._seen.add(digest)
            self._texts.append(text)
            self._meta.append((channel, where, self.current_test))
            self._size += len(text) + len(_SEPARATOR)
            if self._size >= self._chunk_chars:
                self._compress()

    def _compress(self) -> None:
        joined = _SEPARATOR.join(self._texts)
        blob = zlib.compress(joined.encode(), 1)
        self._chunks.append(_Chunk(blob, _starts(self._texts), self._meta))
        self._texts, self._meta, self._size = [], [], 0

    def _all_chunks(self) -> Iterator[tuple[str, list[int], list[tuple[str, str, str]]]]:
        for chunk in self._chunks:
            yield zlib.decompress(chunk.blob).decode(), chunk.starts, chunk.meta
        if self._texts:
            yield _SEPARATOR.join(self._texts), _starts(self._texts), self._meta

    def scan(self) -> list[Finding]:
        """Every (identity, output) pair found, one finding per identity and place."""
        with self._lock:
            identities = dict(self.identities)
            pattern = trie_pattern(identities)
            if pattern is None:
                return []
            hider = _Hider(pattern, identities)
            found: dict[tuple[str, str, str], Finding] = {}
            for text, starts, meta in self._all_chunks():
                for match in pattern.finditer(text):
                    value = match.group()
                    channel, where, test = meta[bisect.bisect_right(starts, match.start()) - 1]
                    key = (value, channel, where)
                    if key not in found:
                        found[key] = Finding(
                            identities[value], mask(value), channel, hider(where), hider(test)
                        )
            return list(found.values())

    def export(self) -> dict[str, Any]:
        """What a pytest-xdist worker hands to the controller: its identities, counts and
        outputs (compressed)."""
        with self._lock:
            if self._texts:
                self._compress()
            return {
                "identities": dict(self.identities),
                "counts": dict(self.counts),
                "chunks": [(c.blob, c.starts, c.meta) for c in self._chunks],
            }

    def absorb(self, exported: dict[str, Any]) -> None:
        """Add a worker's identities and outputs, so that one scan covers the whole run: an
        identity one worker wrote is looked for in the outputs of every worker."""
        with self._lock:
            for value, column in exported["identities"].items():
                self.identities.setdefault(value, column)
            for channel, count in exported["counts"].items():
                self.counts[channel] = self.counts.get(channel, 0) + count
            self._chunks.extend(_Chunk(*chunk) for chunk in exported["chunks"])

    def summary(self, findings: list[Finding]) -> str:
        failing = sum(not f.noted for f in findings)
        c = self.counts
        outcome = f"{failing:,} found" if failing else "none found"
        return (
            f"identity scan: {len(self.identities):,} identities checked against {c[LOG]:,} log "
            f"lines, {c[URL] + c[REDIRECTED_URL]:,} URLs, {c[ERROR_PAGE]:,} error pages, "
            f"{c[TASK]:,} task messages, {c[MAIL]:,} e-mails — {outcome}"
        )


class _Hider:
    """Replaces any identity in a text by its masked form (for the report's places)."""

    def __init__(self, pattern: re.Pattern[str], identities: dict[str, str]) -> None:
        self._pattern, self._identities = pattern, identities

    def __call__(self, text: str) -> str:
        return self._pattern.sub(
            lambda m: f"<{self._identities[m.group()]} {mask(m.group())}>", text
        )


def report_lines(findings: list[Finding]) -> list[str]:
    """The report: failing findings first, grouped by place, then the notes."""
    lines: list[str] = []
    for noted, title in ((False, "identities found in outputs"), (True, "notes (not failing)")):
        group = sorted(
            (f for f in findings if f.noted == noted), key=lambda f: (f.channel, f.where)
        )
        if not group:
            continue
        lines.append(f"{title}:")
        for f in group:
            lines.append(f"  {f.column} {f.masked} in {f.channel}: {f.where}")
            lines.append(f"      first seen in test {f.test}")
    return lines


# --- capture during the session -------------------------------------------------------------


class _LogCapture:
    """A log record factory keeping every record (message and traceback) as an output.

    It sits where every record is made rather than on the root logger's handlers: each
    ``flask db upgrade`` runs ``fileConfig`` (migrations/env.py), which replaces those."""

    def __init__(self, scanner: IdentityScanner, factory: Callable[..., logging.LogRecord]) -> None:
        self.scanner, self.factory = scanner, factory
        self._formatter = logging.Formatter()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                text += "\n" + self._formatter.formatException(record.exc_info)
            if record.stack_info:
                text += "\n" + record.stack_info
        except Exception:  # a record that cannot be formatted still shows its parts
            text = f"{record.msg!r} {record.args!r}"
        self.scanner.see(LOG, f"logger {record.name} ({record.levelname})", text)
        return record


def without_own_input(body: str) -> str:
    """An error page without what the request itself sent (e.g. a 409 conflict showing the
    form again with the user's own input, as a 422 does): only what the application added."""
    from flask import has_request_context, request

    if not has_request_context():
        return body
    try:
        sent = {v for _, values in request.values.lists() for v in values if len(v) >= 3}
    except Exception:  # a body that is not a form
        return body
    for value in sorted(sent, key=len, reverse=True):
        body = body.replace(value, "\x01")
    return body


def _json(value: Any) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False)


class SessionCapture:
    """Wires a scanner to every output of the application for the length of a session."""

    LOGGERS = ("app", "simpul", "celery")

    def __init__(self, scanner: IdentityScanner) -> None:
        self.scanner = scanner
        self.demo_loaded = False
        self._undo: list[Callable[[], None]] = []
        self._request = threading.local()

    def install(self) -> None:
        self._capture_identities()
        self._capture_logs()
        self._capture_requests()
        self._capture_tasks()
        self._capture_mail()

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    # identities: every plaintext bound to an identity column, however it is written
    def _capture_identities(self) -> None:
        from app.core.encryption import EncryptedText

        original = EncryptedText.process_bind_param
        scanner = self.scanner

        def process_bind_param(self: EncryptedText, value: str | None, dialect: Any) -> Any:
            if isinstance(value, str) and self.context in IDENTITY_COLUMNS:
                scanner.learn(self.context, value)
            return original(self, value, dialect)

        EncryptedText.process_bind_param = process_bind_param  # type: ignore[method-assign]

        def undo() -> None:
            EncryptedText.process_bind_param = original  # type: ignore[method-assign]

        self._undo.append(undo)

    def learn_demo(self) -> None:
        """The identities of the demo seed (app/demo), as its import records hold them."""
        from app.demo.cases import demo_records

        def walk(node: Any, section: str) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(item, section)
            elif isinstance(node, dict):
                for key, value in node.items():
                    column = DEMO_COLUMNS.get((section, key))
                    if column and isinstance(value, str):
                        self.scanner.learn(column, value)
                    else:
                        walk(value, key)

        walk(demo_records(), "")

    def _capture_logs(self) -> None:
        previous = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_LogCapture(self.scanner, previous))
        self._undo.append(lambda: logging.setLogRecordFactory(previous))
        # the application's own records from DEBUG up (the root logger keeps its level: below
        # WARNING every library, SQLAlchemy's statement log included, would start logging)
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            level, propagate = logger.level, logger.propagate
            logger.setLevel(logging.DEBUG)
            logger.propagate = True

            def undo(
                logger: logging.Logger = logger, level: int = level, p: bool = propagate
            ) -> None:
                logger.setLevel(level)
                logger.propagate = p

            self._undo.append(undo)

    def _capture_requests(self) -> None:
        from flask import request_finished, request_started, request_tearing_down

        request_started.connect(self._started, weak=False)
        request_finished.connect(self._finished, weak=False)
        request_tearing_down.connect(self._torn_down, weak=False)

        def undo() -> None:
            request_started.disconnect(self._started)
            request_finished.disconnect(self._finished)
            request_tearing_down.disconnect(self._torn_down)

        self._undo.append(undo)

    @staticmethod
    def _address(url: str) -> str:
        decoded = unquote_plus(url)
        return url if decoded == url else f"{url}\n{decoded}"

    def _started(self, sender: Any, **extra: Any) -> None:
        from flask import request

        rule = request.url_rule.rule if request.url_rule else "(no route)"
        self._request.pending = (f"{request.method} {rule}", request.full_path)

    def _finished(self, sender: Any, response: Any, **extra: Any) -> None:
        pending = getattr(self._request, "pending", None)
        self._request.pending = None
        route = pending[0] if pending else "(unknown route)"
        status = response.status_code
        if pending:
            channel = REDIRECTED_URL if 300 <= status < 400 else URL
            self.scanner.see(channel, f"request {route} → {status}", self._address(pending[1]))
        if response.location:
            self.scanner.see(URL, f"redirect from {route}", self._address(response.location))
        if status in ERROR_STATUSES and not (response.direct_passthrough or response.is_streamed):
            body = response.get_data().decode("utf-8", "replace")
            if "&" in body:
                body = html.unescape(body)
            self.scanner.see(ERROR_PAGE, f"{route} → {status}", without_own_input(body))

    def _torn_down(self, sender: Any, **extra: Any) -> None:
        pending = getattr(self._request, "pending", None)
        self._request.pending = None
        if pending:  # no response was made (the error went up to the test)
            self.scanner.see(URL, f"request {pending[0]} → no response", self._address(pending[1]))

    def _capture_tasks(self) -> None:
        import sqlalchemy as sa
        from celery.signals import before_task_publish
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.orm import Session

        from app.core.outbox import OutboxMessage
        from app.core.tasks import pending_tasks

        scanner = self.scanner

        def published(sender: Any = None, body: Any = None, headers: Any = None, **kw: Any) -> None:
            headers = headers or {}
            text = _json([body, headers.get("argsrepr"), headers.get("kwargsrepr")])
            scanner.see(TASK, f"task {sender or headers.get('task')} (sent to the broker)", text)

        def queued(session: Session, *rest: Any) -> None:
            for name, args, kwargs in pending_tasks(session):
                scanner.see(TASK, f"task {name} (queued after commit)", _json([args, kwargs]))

        def executed(conn: Any, clause: Any, multiparams: Any, params: Any, options: Any) -> None:
            if isinstance(clause, sa.Insert) and clause.table.name == "outbox":
                values = clause.compile().params
                name = values.get("task_name", "?")
                text = _json([values, multiparams, params])
                scanner.see(TASK, f"task {name} (outbox row)", text)

        def inserted(mapper: Any, connection: Any, target: Any) -> None:
            text = _json([target.args, target.kwargs])
            scanner.see(TASK, f"task {target.task_name} (outbox row)", text)

        before_task_publish.connect(published, weak=False)
        event.listen(Session, "after_commit", queued, insert=True)
        event.listen(Session, "after_soft_rollback", queued, insert=True)
        event.listen(Engine, "before_execute", executed)
        event.listen(OutboxMessage, "before_insert", inserted)

        def undo() -> None:
            before_task_publish.disconnect(published)
            event.remove(Session, "after_commit", queued)
            event.remove(Session, "after_soft_rollback", queued)
            event.remove(Engine, "before_execute", executed)
            event.remove(OutboxMessage, "before_insert", inserted)

        self._undo.append(undo)

    def _capture_mail(self) -> None:
        from app.notifications import mail

        originals = dict(mail.BACKENDS)
        scanner = self.scanner

        def wrap(name: str, send: Callable[..., None]) -> Callable[..., None]:
            def capture(message: Any, config: Any) -> None:
                text = f"{message['Subject']}\n{message.get_content()}"
                scanner.see(MAIL, f"e-mail ({name} backend)", text)
                send(message, config)

            return capture

        for name, send in originals.items():
            mail.BACKENDS[name] = wrap(name, send)

        def undo() -> None:
            mail.BACKENDS.update(originals)

        self._undo.append(undo)


# --- the pytest plugin ----------------------------------------------------------------------

_capture: SessionCapture | None = None


def session_scanner() -> IdentityScanner | None:
    """The scanner of the running session (None before it starts)."""
    return _capture.scanner if _capture else None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _capture
    _capture = SessionCapture(IdentityScanner())
    _capture.install()


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if _capture:
        _capture.scanner.current_test = nodeid


def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: Any) -> None:
    if _capture and fixturedef.argname == "demo_app":
        _capture.demo_loaded = True


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller, for each worker: where the worker leaves its scanner."""
    node.workerinput["identity_scan_dir"] = _exports_dir(node.config)


def _exports_dir(config: pytest.Config) -> str:
    if not hasattr(config, "_identity_scan_dir"):
        config._identity_scan_dir = tempfile.mkdtemp(prefix="simpul-identity-scan-")  # type: ignore[attr-defined]
    return str(config._identity_scan_dir)  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The scan at the end of the run. Under pytest-xdist each worker leaves what it learned
    and saw in a file, and the controller scans them all together at its own end."""
    global _capture
    capture, _capture = _capture, None
    if capture is None:
        return
    capture.uninstall()
    if capture.demo_loaded:
        capture.learn_demo()
    worker_input = getattr(session.config, "workerinput", None)
    if worker_input is not None:
        path = Path(worker_input["identity_scan_dir"]) / f"{worker_input['workerid']}.pickle"
        path.write_bytes(pickle.dumps(capture.scanner.export()))
        return
    exports = getattr(session.config, "_identity_scan_dir", None)
    if exports is not None:
        for path in sorted(Path(exports).glob("*.pickle")):
            capture.scanner.absorb(pickle.loads(path.read_bytes()))  # noqa: S301 (our workers')
        shutil.rmtree(exports, ignore_errors=True)
    conclude(capture.scanner, session)


def conclude(scanner: IdentityScanner, session: Any) -> list[Finding]:
    """Scan, print the report and the summary line, and fail the run on any finding."""
    started = time.perf_counter()
    findings = scanner.scan()
    took = time.perf_counter() - started
    failing = any(not f.noted for f in findings)
    lines = [*report_lines(findings), f"{scanner.summary(findings)} (scan {took:.1f} s)"]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")  # end the progress line
        if findings:
            reporter.section("identity scan", red=failing)
        for line in lines:
            reporter.write_line(line, red=failing)
    else:
        print("\n".join(lines), file=sys.stderr)
    if failing and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return findings
