"""The engine (``app/workflow/engine.py``) is the only writer of history and state, with the
adapters registered with it (``engine.register_adapter``) by the domains built on the workflow.

Scans the source of ``app/`` with ``ast``: outside the engine and those adapters' modules
(``ENGINE_MODULES``, each with its reason; a test checks that they are exactly the modules of
the registered adapters), nothing may construct a history
row (``CaseTransition(…)``, ``ReferralEvent(…)``), give ``state=`` to the constructor of a case,
a service track, a referral or a transfer, or assign to ``<something>.state``. The only
``.state`` assignments allowed elsewhere are listed below with the reason (they are not the
workflow's aggregates). The demo's ``app/demo/clock.py`` moves the time stamps of rows a story
wrote (``setattr`` of its stamp columns): it writes neither a row nor a state, so it needs no
exception here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from app.workflow import engine

APP = Path(__file__).resolve().parents[2] / "app"

# The modules that write history and state (file relative to app/): the engine, and the module
# of each adapter registered with it
ENGINE_MODULES = {
    "workflow/engine.py": "the engine, with the case's and the service track's adapters",
    "referrals/engine.py": (
        "the referral's adapter (steps of a referral, its referral_events rows), registered with "
        "the engine from app.referrals.init_app: the engine names no model above the workflow"
    ),
}

HISTORY_ROWS = frozenset({"CaseTransition", "ReferralEvent"})
AGGREGATES = frozenset({"Case", "ServiceTrack", "Referral", "CaseTransfer"})

# (file relative to app/, the assigned expression): not a workflow aggregate
NOT_AGGREGATES = {
    ("demo/cases.py", "self.state"): "the demo's import-record builder keeps the state it draws",
    ("indicators/operations.py", "job.state"): "an indicator job's run state, not a workflow",
}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def writers(path: Path, source: str) -> list[str]:
    """Every place in ``source`` that writes history or a ``state`` (``file:line what``)."""
    rel = path.relative_to(APP).as_posix() if path.is_relative_to(APP) else path.name
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in HISTORY_ROWS:
                found.append(f"{rel}:{node.lineno} {called}(…)")
            if called in AGGREGATES and any(k.arg == "state" for k in node.keywords):
                found.append(f"{rel}:{node.lineno} {called}(state=…)")
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in _flatten(target)]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "state":
                what = ast.unparse(target)
                if (rel, what) not in NOT_AGGREGATES:
                    found.append(f"{rel}:{node.lineno} {what} = …")
    return found


def _flatten(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, ast.Tuple | ast.List):
        return [t for element in target.elts for t in _flatten(element)]
    return [target]


def test_only_the_engine_writes_history_and_state():
    found = [
        where
        for path in sorted(APP.rglob("*.py"))
        if path.relative_to(APP).as_posix() not in ENGINE_MODULES
        for where in writers(path, path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_scan_finds_a_new_writer():
    sneaky = (
        "def close(case, track):\n"
        "    case.state = 'ditutup'\n"
        "    track.state, x = 'selesai', 1\n"
        "    db.session.add(CaseTransition(case_id=case.id))\n"
        "    db.session.add(models.ReferralEvent(kind='x'))\n"
        "    return Case(state='diterima')\n"
    )
    assert len(writers(APP / "cases" / "sneaky.py", sneaky)) == 5


def test_the_engine_itself_writes_them():
    for rel in ENGINE_MODULES:
        path = APP / rel
        assert writers(path, path.read_text(encoding="utf-8")), rel


def test_the_writers_allowed_are_the_engine_and_the_registered_adapters(app):
    # an adapter registered from a module not listed would write unchecked; a module listed
    # that registers no adapter would be a hole in the scan
    modules = {type(adapter).__module__ for adapter in engine.registered_adapters().values()}
    listed = {"app." + rel.removesuffix(".py").replace("/", ".") for rel in ENGINE_MODULES}
    assert modules | {engine.__name__} == listed


def test_the_exceptions_still_exist():
    for rel, what in NOT_AGGREGATES:
        source = (APP / rel).read_text(encoding="utf-8")
        assert f"{what} = " in source, (rel, what)
