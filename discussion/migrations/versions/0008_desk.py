"""the editorial desk: publication states and times, Markdown bodies, revisions, old slugs

Existing publications become published at midnight UTC of their date. The term index
(publication_terms, term_frequencies) starts empty: run `flask --app discussion
refresh-related` once after upgrading, which fills it and recomputes every list. Their bodies (a
list of plain paragraphs) become Markdown source, each paragraph escaped so that it
reads back as the same text, and the HTML the article showed (each paragraph escaped
in a <p>). The role "editor" joins "moderator" and "admin".

Safe while the previous code still serves? No: it drops `published` and `body`, which
the previous code reads. Deploy it with the code that reads the new columns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 15:00:00

"""

import re
import unicodedata
from datetime import UTC, datetime, time
from html import escape

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATES = ("draft", "published", "unpublished")
# A frozen copy of discussion.publications.content.markdown_of (migrations never import
# the app's code, which may change after them).
_INLINE = re.compile(r"([\\`*_\[\]<>!&|~])")
_MARKER = re.compile(r"^(\s*)(?:([#>+\-=])|(\d+)([.)]))")


def markdown_of(paragraph: str) -> str:
    """A plain paragraph as Markdown that renders to the same text."""
    text = _INLINE.sub(r"\\\1", " ".join(paragraph.split("\n")))
    return _MARKER.sub(
        lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"),
        text,
    )


_SLUG_DROP = re.compile(r"['\u2018\u2019\u201c\u201d\"]|(?<=\w)\.(?=\w)")


def slug_of(name: str) -> str:
    """A frozen copy of discussion.publications.seeds.slugify."""
    text = unicodedata.normalize("NFKD", _SLUG_DROP.sub("", name))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def html_of(paragraphs: list[str]) -> str:
    return "".join(f"<p>{escape(p, quote=False)}</p>\n" for p in paragraphs)


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TYPE moderator_role ADD VALUE IF NOT EXISTS 'editor'")
        postgresql.ENUM(*STATES, name="publication_state").create(bind, checkfirst=True)
        state_type = postgresql.ENUM(*STATES, name="publication_state", create_type=False)
    else:
        state_type = sa.Enum(*STATES, name="publication_state")

    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stem", sa.String(length=40), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("widths", sa.JSON(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("alt", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["moderators.id"], name=op.f("fk_media_uploaded_by_moderators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("stem", name=op.f("uq_media_stem")),
    )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figure_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_publications_figure_id_media"), "media", ["figure_id"], ["id"]
        )
        batch_op.add_column(sa.Column("body_source", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("state", state_type, nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("correction", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))

    publications = sa.table(
        "publications",
        sa.column("id", sa.Integer()),
        sa.column("body", sa.JSON()),
        sa.column("published", sa.Date()),
        sa.column("body_source", sa.Text()),
        sa.column("body_html", sa.Text()),
        sa.column("state", state_type),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(sa.select(publications.c.id, publications.c.body, publications.c.published))
    for publication_id, body, published in rows.all():
        paragraphs = [p for p in (body or []) if isinstance(p, str)]
        bind.execute(
            publications.update()
            .where(publications.c.id == publication_id)
            .values(
                body_source="\n\n".join(markdown_of(p) for p in paragraphs),
                body_html=html_of(paragraphs),
                state="published",
                published_at=datetime.combine(published, time(0), tzinfo=UTC),
            )
        )

    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.alter_column("body_source", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("body_html", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("state", existing_type=state_type, nullable=False)
        batch_op.drop_index("ix_publications_published")
        batch_op.drop_column("published")
        batch_op.drop_column("body")
        batch_op.create_index(
            batch_op.f("ix_publications_published_at"), ["published_at"], unique=False
        )

    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slug", sa.String(length=200), nullable=True))
    authors = sa.table(
        "authors", sa.column("id", sa.Integer()), sa.column("name"), sa.column("slug")
    )
    taken: set[str] = set()
    for author_id, name in bind.execute(sa.select(authors.c.id, authors.c.name)).all():
        slug = base = slug_of(name) or "author"
        n = 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        bind.execute(authors.update().where(authors.c.id == author_id).values(slug=slug))
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.alter_column("slug", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_authors_slug"), ["slug"])

    op.create_table(
        "slug_redirects",
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_slug_redirects_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_slug_redirects")),
    )
    with op.batch_alter_table("slug_redirects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slug_redirects_publication_id"), ["publication_id"], unique=False
        )
    op.create_table(
        "publication_terms",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_publication_terms_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("publication_id", "term", name=op.f("pk_publication_terms")),
    )
    with op.batch_alter_table("publication_terms", schema=None) as batch_op:
        batch_op.create_index("ix_publication_terms_term_weight", ["term", "weight"], unique=False)
    op.create_table(
        "term_frequencies",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_term_frequencies")),
    )
    op.create_table(
        "label_redirects",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("target_slug", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("kind", "slug", name=op.f("pk_label_redirects")),
    )
    op.create_table(
        "related_exclusions",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("excluded_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["excluded_id"],
            ["publications.id"],
            name=op.f("fk_related_exclusions_excluded_id_publications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_related_exclusions_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "publication_id", "excluded_id", name=op.f("pk_related_exclusions")
        ),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["editor_id"], ["moderators.id"], name=op.f("fk_revisions_editor_id_moderators")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_revisions_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisions")),
        sa.UniqueConstraint("publication_id", "number", name=op.f("uq_revisions_publication_id")),
    )


def downgrade():
    bind = op.get_bind()
    op.drop_table("revisions")
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_authors_slug"), type_="unique")
        batch_op.drop_column("slug")
    op.drop_table("related_exclusions")
    op.drop_table("label_redirects")
    op.drop_table("term_frequencies")
    with op.batch_alter_table("publication_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_terms_term_weight")
    op.drop_table("publication_terms")
    with op.batch_alter_table("slug_redirects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slug_redirects_publication_id"))
    op.drop_table("slug_redirects")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("published", sa.Date(), nullable=True))
    publications = sa.table(
        "publications",
        sa.column("id", sa.Integer()),
        sa.column("body", sa.JSON()),
        sa.column("published", sa.Date()),
        sa.column("body_source", sa.Text()),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(publications.c.id, publications.c.body_source, publications.c.published_at)
    )
    for publication_id, source, published_at in rows.all():
        bind.execute(
            publications.update()
            .where(publications.c.id == publication_id)
            .values(
                body=[p for p in (source or "").split("\n\n") if p],
                published=(published_at or datetime.now(UTC)).date(),
            )
        )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("published", existing_type=sa.Date(), nullable=False)
        batch_op.create_index("ix_publications_published", ["published"], unique=False)
        batch_op.drop_index(batch_op.f("ix_publications_published_at"))
        batch_op.drop_constraint(batch_op.f("fk_publications_figure_id_media"), type_="foreignkey")
        for column in (
            "figure_id",
            "revision",
            "correction",
            "corrected_at",
            "published_at",
            "state",
            "body_html",
            "body_source",
        ):
            batch_op.drop_column(column)
    op.drop_table("media")
    if bind.dialect.name == "postgresql":
        op.execute("DROP TYPE IF EXISTS publication_state")
    # PostgreSQL cannot drop a value from an enum type: "editor" stays in moderator_role.
