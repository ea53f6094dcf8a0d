"""The archive's commands: ``import wordpress|disqus|isso|archive``, ``export``,
``backup`` and ``restore``."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click
from flask import Flask, current_app

from ..accounts import staff
from ..extensions import db
from ..web import clock, links
from . import archivefile, backup, disqus, isso, wordpress, wxr
from .importing import Importer, Summary
from .threads import ThreadMatcher, parse_maps
from .xmlstream import NotTheFormat

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Report what would be imported; write nothing."
)


@click.group("import")
def import_group() -> None:
    """Bring an archive in: WordPress, Disqus, Isso, or this site's own export."""


# Below this size the worker processes would take longer to start than they save.
PARALLEL_FROM_BYTES = 5_000_000


def _importer(source: str, dry_run: bool, path: Path) -> Importer:
    large = path.stat().st_size >= PARALLEL_FROM_BYTES
    return Importer(
        source,
        secret_key=current_app.config["SECRET_KEY"],
        personal_data_days=current_app.config["PERSONAL_DATA_DAYS"],
        now=clock.now(),
        dry_run=dry_run,
        workers=(os.cpu_count() or 1) if large else 1,
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
            _stop(importer)
            raise click.ClickException(f"{path.name}: {error}") from error
        bar.update(size - done[0])
    return _report(importer)


def _stop(importer: Importer) -> None:
    """After a file turned out not to be the format: keep the batches already stored
    (a dry run keeps nothing), so running again after mending the file adds the rest."""
    if importer.dry_run:
        db.session.rollback()
    else:
        importer.finish()
    for line in importer.summary.lines()[:-1]:
        click.echo(line, err=True)


def _report(importer: Importer) -> Summary:
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
    importer = _importer("wordpress", dry_run, file)
    _run(
        importer,
        file,
        lambda source, progress: wordpress.run(importer, source, pages=pages, progress=progress),
        "Importing WordPress",
    )


MAP = click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="OLD_PREFIX=NEW_PREFIX",
    help="Read thread addresses starting OLD_PREFIX as starting NEW_PREFIX (repeatable).",
)
CREATE_MISSING = click.option(
    "--create-missing",
    is_flag=True,
    help="Create a minimal publication for a thread no publication matches.",
)


def _matcher(importer: Importer, maps: tuple[str, ...], create_missing: bool) -> ThreadMatcher:
    try:
        return ThreadMatcher(importer, parse_maps(maps), create_missing=create_missing)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--map") from error


@import_group.command("disqus")
@click.argument("file", type=FILE)
@DRY_RUN
@MAP
@CREATE_MISSING
def import_disqus(file: Path, dry_run: bool, maps: tuple[str, ...], create_missing: bool) -> None:
    """Import a Disqus export: threads matched to publications by address."""
    importer = _importer("disqus", dry_run, file)
    matcher = _matcher(importer, maps, create_missing)
    _run(
        importer,
        file,
        lambda source, progress: disqus.run(importer, source, matcher, progress=progress),
        "Importing Disqus",
    )


@import_group.command("isso")
@click.argument("file", type=FILE)
@DRY_RUN
@MAP
@CREATE_MISSING
def import_isso(file: Path, dry_run: bool, maps: tuple[str, ...], create_missing: bool) -> None:
    """Import Isso's SQLite database: threads matched to publications by URI."""
    importer = _importer("isso", dry_run, file)
    matcher = _matcher(importer, maps, create_missing)
    total = _isso_rows(file)
    with click.progressbar(length=total, label="Importing Isso") as bar:
        done = [0]

        def progress(position: int) -> None:
            bar.update(position - done[0])
            done[0] = position

        try:
            isso.run(importer, file, matcher, progress=progress)
        except NotTheFormat as error:
            _stop(importer)
            raise click.ClickException(f"{file.name}: {error}") from error
    _report(importer)


def _isso_rows(path: Path) -> int:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return connection.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return 0  # not an Isso database: the import says so


@import_group.command("archive")
@click.argument("file", type=FILE)
@DRY_RUN
def import_archive(file: Path, dry_run: bool) -> None:
    """Restore this site's own export (``flask export``) into an empty database."""
    with click.progressbar(length=0, label="Restoring") as bar:
        try:
            counts = archivefile.load(file, progress=lambda: bar.update(1))
        except archivefile.ArchiveError as error:
            db.session.rollback()
            raise click.ClickException(f"{file.name}: {error}") from error
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for name, n in counts.items():
        if n:
            click.echo(f"{name}: {n} rows")
    staff = counts["moderators"]
    if staff and not archivefile.had_credentials(file):
        click.echo(
            f"{staff} staff accounts came without passwords: give each one with "
            "`flask --app discussion set-password NAME`."
        )
    prefix = "dry run, nothing written: would have " if dry_run else ""
    click.echo(
        f"{prefix}imported {counts['publications']} publications, "
        f"{counts['comments']} comments; skipped 0"
    )


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--format",
    "kind",
    type=click.Choice(["archive", "wxr"]),
    default="archive",
    show_default=True,
    help="archive: this site's JSON Lines (gzip for .gz); wxr: WordPress's XML.",
)
@click.option(
    "--with-credentials",
    is_flag=True,
    help="Include staff password hashes (keep such a file as safe as the database).",
)
def export_command(file: Path, kind: str, with_credentials: bool) -> None:
    """Write everything needed to rebuild the site elsewhere (or its comments as WXR)."""
    if kind == "wxr":
        try:
            site = links.site_url()
        except links.NoSiteAddress as error:
            raise click.ClickException(str(error)) from error
        with click.progressbar(length=0, label="Exporting WXR") as bar:
            wxr.write(file, site, current_app.config["SITE_NAME"], progress=lambda: bar.update(1))
        click.echo(f"Wrote {file} (WordPress eXtended RSS 1.2).")
        return
    with click.progressbar(length=0, label="Exporting") as bar:
        counts = archivefile.write(
            file, with_credentials=with_credentials, progress=lambda: bar.update(1)
        )
    click.echo(
        f"Wrote {file}: {counts['publications']} publications, {counts['comments']} comments, "
        f"{sum(counts.values())} rows in all"
        + ("" if with_credentials else "; staff accounts without password hashes")
        + "."
    )


@click.command("set-password")
@click.argument("name")
@click.option("--password", help="Omit to be prompted (hidden, asked twice).")
def set_password_command(name: str, password: str | None) -> None:
    """Give a staff account a new password (e.g. after restoring an archive)."""
    person = staff.find(name)
    if person is None:
        raise click.ClickException(f"No staff account {name!r}.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        staff.set_password(person, password)
    except staff.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Password set for {person.username!r}.")


def _media_root() -> Path:
    return Path(current_app.config.get("MEDIA_ROOT") or f"{current_app.instance_path}/media")


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory: Path) -> None:
    """Copy the SQLite database (consistent, while the site runs) and the media into DIR."""
    db.session.remove()
    try:
        copied = backup.backup(
            current_app.config["SQLALCHEMY_DATABASE_URI"], _media_root(), directory
        )
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Backed up to {directory}: the database ({copied.database_bytes:,} bytes) and "
        f"{copied.media_files} media files."
    )


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore_command(directory: Path, yes: bool) -> None:
    """Bring back a backup made by `backup DIR`: the database is replaced by the copy."""
    if not yes:
        click.confirm(
            "Replace the site's database with the backup (what was written since is lost)?",
            abort=True,
        )
    db.session.remove()
    db.engine.dispose()
    try:
        copied = backup.restore(
            current_app.config["SQLALCHEMY_DATABASE_URI"], _media_root(), directory
        )
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Restored from {directory}: the database and {copied.media_files} media files. "
        "Run `flask --app discussion db upgrade` if the backup is from an older version."
    )


def init_app(app: Flask) -> None:
    """Register the archive's commands."""
    for command in (
        import_group,
        export_command,
        set_password_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
