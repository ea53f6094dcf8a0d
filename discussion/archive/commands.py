"""The archive's commands: ``import wordpress|disqus|isso|archive``, ``export``,
``backup`` and ``restore``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

import click
from flask import current_app

from ..extensions import db
from ..web import clock
from . import wordpress
from .importing import Importer, Summary
from .xmlstream import NotTheFormat

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Report what would be imported; write nothing."
)


@click.group("import")
def import_group() -> None:
    """Bring an archive in: WordPress, Disqus, Isso, or this site's own export."""


def _importer(source: str, dry_run: bool) -> Importer:
    return Importer(
        source,
        secret_key=current_app.config["SECRET_KEY"],
        personal_data_days=current_app.config["PERSONAL_DATA_DAYS"],
        now=clock.now(),
        dry_run=dry_run,
    )


def _run(
    importer: Importer,
    path: Path,
    read: Callable[[IO[bytes], Callable[[int], None]], None],
    label: str,
) -> Summary:
    """Read the file with a progress bar, finish the import, print the summary; a file
    that is not the format named ends with one clear error (batches already committed
    stay: running the command again after mending the file adds only what is missing)."""
    size = path.stat().st_size
    with path.open("rb") as source, click.progressbar(length=size, label=label) as bar:
        done = [0]

        def progress(position: int) -> None:
            bar.update(position - done[0])
            done[0] = position

        try:
            read(source, progress)
        except NotTheFormat as error:
            if importer.dry_run:
                db.session.rollback()
            else:
                importer.finish()
            raise click.ClickException(f"{path.name}: {error}") from error
        bar.update(size - done[0])
    summary = importer.finish()
    if importer.dry_run:
        db.session.rollback()
    for line in summary.lines():
        click.echo(line)
    return summary


@import_group.command("wordpress")
@click.argument("file", type=FILE)
@DRY_RUN
@click.option("--pages", is_flag=True, help="Import pages too, as publications of type Page.")
def import_wordpress(file: Path, dry_run: bool, pages: bool) -> None:
    """Import a WordPress export (WXR 1.1 or 1.2): published posts and their comments."""
    importer = _importer("wordpress", dry_run)
    _run(
        importer,
        file,
        lambda source, progress: wordpress.run(importer, source, pages=pages, progress=progress),
        "Importing WordPress",
    )


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    """Register the archive's commands."""
    app.cli.add_command(import_group)
