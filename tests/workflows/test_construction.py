"""A Workflow validates itself when constructed; mediation rule; the ``flask workflows`` CLI."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from workflows.definition import Transition, Workflow, WorkflowError
from workflows.facts import MEDIATION_TPKS_ADULT, mediation_allowed


class S(enum.StrEnum):
    A = "a"
    B = "b"
    C = "c"
    X = "x"


@dataclass(frozen=True)
class Facts:
    reason: str | None = None


def build(
    transitions: list[Transition[S, Facts]],
    states: tuple[S, ...] = (S.A, S.B, S.C),
    final: frozenset[S] = frozenset({S.C}),
    initial: S = S.A,
    key: str = "demo",
) -> Workflow[S, Facts]:
    return Workflow(key, 1, initial, states, final, tuple(transitions))


GOOD: list[Transition[S, Facts]] = [
    Transition("go", S.A, S.B, "cases:manage"),
    Transition("finish", S.B, S.C, "cases:manage"),
]


def test_a_valid_workflow() -> None:
    w = build(GOOD)
    assert w.decide(S.A, "go", Facts()).target is S.B
    assert w.events == ("go", "finish")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"transitions": GOOD, "states": (S.A, S.B, S.C, S.X)}, "unreachable from a: x"),
        (
            {"transitions": [*GOOD, Transition("back", S.C, S.A, "cases:manage")]},
            "the final state c has an outgoing event back",
        ),
        (
            {"transitions": [Transition("go", S.A, S.B, ""), GOOD[1]]},
            "event go declares no permission",
        ),
        (
            {"transitions": [Transition("go", S.A, S.B, "manage"), GOOD[1]]},
            "event go declares no permission",
        ),
        (
            {"transitions": [*GOOD, Transition("go", S.A, S.C, "cases:manage")]},
            "event go is defined twice from state a",
        ),
        (
            {
                "transitions": [
                    *GOOD,
                    Transition("go", frozenset({S.B, S.A}), S.C, "cases:manage"),
                ]
            },
            "event go is defined twice from state a",
        ),
        (
            {"transitions": [*GOOD, Transition("jump", S.A, S.X, "cases:manage")]},
            "event jump uses the unknown state x",
        ),
        (
            {"transitions": [Transition("go", S.X, S.B, "cases:manage"), GOOD[1]]},
            "event go uses the unknown state x",
        ),
        ({"transitions": GOOD, "initial": S.X}, "the initial state x is not one of the states"),
        ({"transitions": GOOD, "final": frozenset({S.X})}, "the final state x is not one"),
        (
            {"transitions": [Transition("Go", S.A, S.B, "cases:manage"), GOOD[1]]},
            "is not a verb in snake_case",
        ),
        (
            {"transitions": [Transition("go-on", S.A, S.B, "cases:manage"), GOOD[1]]},
            "is not a verb in snake_case",
        ),
        (
            {"transitions": [GOOD[0], Transition("end", S.A, S.C, "cases:manage")]},
            "the state b is not final but has no outgoing event",
        ),
        ({"transitions": GOOD, "states": (S.A, S.B, S.C, S.A)}, "a state is listed twice"),
        ({"transitions": GOOD, "key": "Demo Flow"}, "the key must be snake_case"),
    ],
)
def test_construction_refuses(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(WorkflowError, match=message):
        build(**kwargs)


def test_highlight_of_unknown_state() -> None:
    with pytest.raises(WorkflowError):
        build(GOOD).to_mermaid(highlight=S.X)


# --- mediasi: never for tpks unless the perpetrator is a child ---------------------------------


@pytest.mark.parametrize(
    ("case_types", "ages", "expected"),
    [
        ({"tpks"}, (30,), MEDIATION_TPKS_ADULT),
        ({"tpks", "kta"}, (16,), None),
        ({"tpks"}, (16, 17), None),
        ({"tpks"}, (16, 18), MEDIATION_TPKS_ADULT),
        ({"tpks"}, (None,), MEDIATION_TPKS_ADULT),
        ({"tpks"}, (16, None), MEDIATION_TPKS_ADULT),
        ({"tpks"}, (), MEDIATION_TPKS_ADULT),
        ({"ktp"}, (40,), None),
        ({"kta", "ampk"}, (None,), None),
        (set(), (), None),
    ],
)
def test_mediation_allowed(
    case_types: set[str], ages: tuple[int | None, ...], expected: str | None
) -> None:
    assert mediation_allowed(frozenset(case_types), ages) == expected


# --- flask workflows ------------------------------------------------------------------------


def test_cli_check(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["workflows", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ktpa v1: 11 states, 12 transitions, ok",
        "tppo v1: 11 states, 12 transitions, ok",
        "track v1: 8 states, 8 transitions, ok",
        "track v2: 8 states, 11 transitions, ok",
        "referral v1: 7 states, 6 transitions, ok",
    ]


def test_cli_check_fails_on_an_invalid_definition(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        build(GOOD, states=(S.A, S.B, S.C, S.X))

    monkeypatch.setattr("workflows.registry.all_workflows", broken)
    result = app.test_cli_runner().invoke(args=["workflows", "check"])
    assert result.exit_code == 1
    assert "unreachable from a: x" in result.output


def test_cli_check_fails_on_an_unknown_permission(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = build([Transition("go", S.A, S.B, "cases:fly"), GOOD[1]])
    monkeypatch.setattr("workflows.registry.all_workflows", lambda: (w,))
    result = app.test_cli_runner().invoke(args=["workflows", "check"])
    assert result.exit_code == 1
    assert "unknown permissions cases:fly" in result.output


def test_cli_diagram(app: Flask, tmp_path: Path) -> None:
    from workflows.ktpa_v1 import KTPA_V1

    result = app.test_cli_runner().invoke(args=["workflows", "diagram", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ktpa_v1.mmd",
        "referral_v1.mmd",
        "tppo_v1.mmd",
        "track_v1.mmd",
        "track_v2.mmd",
    ]
    assert (tmp_path / "ktpa_v1.mmd").read_text(encoding="utf-8") == KTPA_V1.to_mermaid()
