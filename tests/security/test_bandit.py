"""Static analysis (issue #7, item 11): bandit finds nothing of medium or high severity in the
application and the workflow definitions. A finding is either fixed or reviewed and recorded
(a precise ``# nosec BXXX`` with its reason, or a skip in ``[tool.bandit]`` of pyproject.toml
with its reason); see docs/security.md, "Hostile input and static analysis"."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bandit_command() -> list[str]:
    beside_python = Path(sys.executable).with_name("bandit")
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("bandit")
    assert found, "bandit is not installed: make test installs the dev extras"
    return [found]


def test_bandit_reports_no_medium_or_high_finding() -> None:
    result = subprocess.run(
        [
            *bandit_command(),
            "-r",
            "app",
            "workflows",
            "-c",
            "pyproject.toml",
            "-ll",
            "-f",
            "json",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"bandit did not run (exit {result.returncode}):\n{result.stderr[-3000:]}")
    assert not report.get("errors"), report["errors"]
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']}/"
        f"{r['issue_confidence']}: {r['issue_text']}\n    {r['code'].strip()}"
        for r in report["results"]
    ]
    assert not findings, "bandit findings (fix, or review and record them):\n" + "\n".join(findings)
    assert result.returncode == 0, result.stderr[-3000:]
