"""The project's own promises: README quickstart and CI run the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quickstart() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```\n(.*?)```", readme, re.S)
    assert block, "README has no code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_two_one_line_commands() -> None:
    lines = quickstart()
    assert len(lines) == 2
    assert "discussion.quickstart" in lines[0]
    assert "pytest" in lines[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quickstart()[1] in ci
