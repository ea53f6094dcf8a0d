"""The load and crash check (bench/load_check.py) at a size the suite can afford.

The full size (2,000 comments) is run by hand; figures are in bench/README.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "load_check.py"


@pytest.mark.parametrize("kill", [False, True], ids=["steady", "sigkill"])
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_posting_loses_nothing(database: str, kill: bool) -> None:
    if database == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL run: set TEST_DATABASE_URL (.ci/run does)")
    args = [
        sys.executable,
        str(SCRIPT),
        "--database",
        database,
        "--comments",
        "400",
        "--clients",
        "16",
        "--workers",
        "4",
        "--timeout",
        "120",
    ]
    result = subprocess.run(
        [*args, *(["--kill"] if kill else [])], capture_output=True, text=True, timeout=180
    )
    assert "RESULT          PASS" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0
