"""Command-line tasks: seed content, rebuild the seed data file, related lists, staff
accounts, personal-data erasure, re-rendering comments, synthetic data."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from . import demo
from .accounts import staff
from .archive import commands as archive_commands
from .comments import posting, privacy
from .discovery import fulltext
from .extensions import db
from .mail import worker
from .models import Publication, Role
from .publications import catalog, content, related, seeds
from .web import links

DEFAULT_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@click.command("seed")
def seed_command() -> None:
    """Import the seed publications (running it again changes nothing)."""
    total, changed = content.seed_content(Path(current_app.config["SEED_DATA_FILE"]))
    db.session.commit()
    click.echo(f"Seed content: {total} publications, {changed} changed.")


@click.command("import-seeds")
@click.argument(
    "seeds_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_SEEDS,
)
def import_seeds_command(seeds_dir: Path) -> None:
    """Rebuild the project's seed data file from the seed documents."""
    seeds.write_seed_data(seeds_dir, seeds.DATA_FILE)
    click.echo(f"Wrote {seeds.DATA_FILE} from {seeds_dir}.")


@click.command("rerender-comments")
def rerender_command() -> None:
    """Re-render every stored comment after a sanitizer change."""
    changed = posting.rerender_all()
    db.session.commit()
    click.echo(f"Re-rendered comments: {changed} changed.")


@click.command("refresh-related")
def refresh_related_command() -> None:
    """Recompute every publication's related list, term index and search document."""
    count = related.refresh_all()
    fulltext.reindex(db.session.connection(), db.session.scalars(select(Publication.id)))
    db.session.commit()
    click.echo(f"Related lists recomputed: {count}; search documents rewritten.")


@click.command("create-moderator")
@click.argument("name")
@click.option("--password", help="Omit to be prompted (hidden, asked twice).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.MODERATOR.value,
    show_default=True,
)
@click.option("--email", help="Where moderation alerts go (a mail per held comment).")
def create_moderator_command(name: str, password: str | None, role: str, email: str | None) -> None:
    """Create a moderator (or admin) account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        staff.create_moderator(name, password, Role(role), email=email)
    except staff.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {role} {name!r}.")


@click.command("erase-personal-data")
@click.option("--days", type=int, default=None, help="Keep this many days (default: config).")
def erase_personal_data_command(days: int | None) -> None:
    """Erase raw addresses and user agents older than the retention period."""
    keep = days if days is not None else current_app.config["PERSONAL_DATA_DAYS"]
    erased = privacy.erase_raw_data(keep)
    db.session.commit()
    click.echo(
        f"Erased raw addresses and user agents from {erased} comments older than {keep} days."
    )


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due, run due jobs, and exit.")
def worker_command(once: bool) -> None:
    """Deliver mail from the outbox and run the periodic jobs (digests, stale-queue
    alerts, personal-data erasure); keeps running until stopped (SIGTERM, Ctrl-C)."""
    try:
        links.site_url()
    except links.NoSiteAddress as error:
        raise click.ClickException(str(error)) from error
    if not logging.getLogger().handlers:  # what it sends and retries, on stderr (journald)
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if once:
        handled = worker.run_once()
        click.echo(f"Mails handled: {handled}.")
        return
    stop = threading.Event()
    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, lambda *_: stop.set())
    click.echo("Worker running: delivering mail and running periodic jobs. Stop with Ctrl-C.")
    worker.run_forever(stop)
    click.echo("Worker stopped.")


@click.command("demo-data")
@click.option(
    "--publications",
    "publication_count",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
)
@click.option(
    "--comments", "comment_count", type=click.IntRange(0), default=10000, show_default=True
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--related/--no-related",
    default=False,
    show_default=True,
    help="Also compute every related list (slow at 10,000 publications).",
)
def demo_data_command(publication_count: int, comment_count: int, seed: int, related: bool) -> None:
    """Add synthetic publications and comments, for benchmarks and demos."""
    total = publication_count + comment_count
    with click.progressbar(length=total, label="Generating") as bar:
        demo.generate(publication_count, comment_count, seed=seed, progress=bar.update)
        db.session.commit()
    demo.analyze()
    if related:
        count = related.refresh_all()
        db.session.commit()
        click.echo(f"Related lists computed: {count}.")
    click.echo(f"Added {publication_count} publications and {comment_count} comments.")


@click.command("related")
@click.argument("slug")
def related_command(slug: str) -> None:
    """Show a publication's related list and why each item is on it."""
    publication = catalog.by_slug(slug)
    if publication is None:
        raise click.ClickException(f"No publication with slug {slug!r}.")
    click.echo(f"Related to {publication.slug}:")
    click.echo("#  score   pinned  publication | shared topics | shared types | matching terms")
    for entry in related.entries(publication):
        click.echo(
            f"{entry.position + 1:<2} {entry.score:7.4f} {'pin' if entry.pinned else '-':<7} "
            f"{entry.related.slug} | {', '.join(entry.shared_topics) or '-'} | "
            f"{', '.join(entry.shared_types) or '-'} | {', '.join(entry.terms) or '-'}"
        )


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for command in (
        seed_command,
        import_seeds_command,
        rerender_command,
        refresh_related_command,
        related_command,
        create_moderator_command,
        erase_personal_data_command,
        worker_command,
        demo_data_command,
    ):
        app.cli.add_command(command)
    archive_commands.init_app(app)
