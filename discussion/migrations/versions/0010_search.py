"""full-text search: a search document per publication, indexed by SQLite FTS5 or a
PostgreSQL tsvector with a GIN index; comments indexed the same way for the queue

SQLite: `publication_search` holds each publication's searchable text (title, dek,
plain body, author and topic names); `publication_fts` is an FTS5 index over it
(external content, kept in step by triggers), and `comment_fts` one over the comments'
text and names (triggers on `comments`). PostgreSQL: `publication_search.document` is a
generated, weighted tsvector with a GIN index, and comments have a GIN expression index.
Both use English stemming. Existing publications and comments are indexed here.

Safe while the previous code still serves? Yes: it only adds tables, triggers and
indexes. Publications the previous code saves meanwhile are not re-indexed until they
are saved again (or `flask --app discussion refresh-related` runs).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 16:00:00

"""

import html
import re

import sqlalchemy as sa
from alembic import op

from discussion.discovery.fulltext import SQLITE_COMMENT_TRIGGERS

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

FTS_COLUMNS = "title, dek, body, names"
PG_DOCUMENT = (
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', dek), 'B') || "
    "setweight(to_tsvector('english', names), 'C') || "
    "setweight(to_tsvector('english', body), 'D')"
)
PG_COMMENT_DOCUMENT = "to_tsvector('english', body_text || ' ' || name)"


PUBLICATION_COLUMNS = (
    "id",
    "state",
    "published_at",
    "slug",
    "title",
    "dek",
    "summary",
    "partner",
    "source_note",
    "image_file",
    "image_alt",
    "image_caption",
    "invitation",
    "comments_open",
    "premoderation",
    "cache_version",
    "updated_at",
    "figure_id",
    "corrected_at",
    "correction",
    "revision",
    "body_source",
    "body_html",
)


def _plain(markup: str | None) -> str:
    return _CONTROL.sub(" ", html.unescape(_TAG.sub(" ", markup or "")))


def upgrade():
    bind = op.get_bind()
    op.create_table(
        "publication_search",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("dek", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_publication_search_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("publication_id", name=op.f("pk_publication_search")),
    )
    if bind.dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE publication_search ADD COLUMN document tsvector "
            f"GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED"
        )
        op.execute(
            "CREATE INDEX ix_publication_search_document ON publication_search USING gin (document)"
        )
        op.execute(
            f"CREATE INDEX ix_comments_fulltext ON comments USING gin ({PG_COMMENT_DOCUMENT})"
        )
    else:
        op.execute(
            f"CREATE VIRTUAL TABLE publication_fts USING fts5({FTS_COLUMNS}, "
            "content='publication_search', content_rowid='publication_id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        new = "new.publication_id, new.title, new.dek, new.body, new.names"
        old = "'delete', old.publication_id, old.title, old.dek, old.body, old.names"
        op.execute(
            "CREATE TRIGGER publication_search_ai AFTER INSERT ON publication_search BEGIN "
            f"INSERT INTO publication_fts(rowid, {FTS_COLUMNS}) VALUES ({new}); END"
        )
        op.execute(
            "CREATE TRIGGER publication_search_ad AFTER DELETE ON publication_search BEGIN "
            f"INSERT INTO publication_fts(publication_fts, rowid, {FTS_COLUMNS}) VALUES ({old}); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER publication_search_au AFTER UPDATE ON publication_search BEGIN "
            f"INSERT INTO publication_fts(publication_fts, rowid, {FTS_COLUMNS}) VALUES ({old}); "
            f"INSERT INTO publication_fts(rowid, {FTS_COLUMNS}) VALUES ({new}); END"
        )
        op.execute(
            "CREATE VIRTUAL TABLE comment_fts USING fts5(body_text, name, content='comments', "
            "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        for statement in SQLITE_COMMENT_TRIGGERS:
            op.execute(statement)
        op.execute("INSERT INTO comment_fts(comment_fts) VALUES ('rebuild')")
    _index_publications(bind)
    # Filtered listings: read labels' publications and who may see them from indexes alone.
    op.drop_index("ix_publication_types_type_id", table_name="publication_types")
    op.create_index(
        "ix_publication_types_type_publication", "publication_types", ["type_id", "publication_id"]
    )
    op.drop_index("ix_publication_topics_topic_id", table_name="publication_topics")
    op.create_index(
        "ix_publication_topics_topic_publication",
        "publication_topics",
        ["topic_id", "publication_id"],
    )
    if bind.dialect.name == "sqlite":
        # SQLite reads a row's columns in order, through overflow pages past a long body:
        # who may see a publication is read first, the bodies last.
        with op.batch_alter_table(
            "publications", recreate="always", partial_reordering=[PUBLICATION_COLUMNS]
        ):
            pass


def _index_publications(bind):
    names: dict[int, list[str]] = {}
    for publication_id, name in bind.execute(
        sa.text(
            "SELECT b.publication_id, a.name FROM bylines b JOIN authors a ON a.id = b.author_id "
            "ORDER BY b.publication_id, b.position"
        )
    ):
        names.setdefault(publication_id, []).append(name)
    for publication_id, name in bind.execute(
        sa.text(
            "SELECT pt.publication_id, t.name FROM publication_topics pt "
            "JOIN topics t ON t.id = pt.topic_id ORDER BY pt.publication_id, t.name"
        )
    ):
        names.setdefault(publication_id, []).append(name)
    rows = bind.execute(sa.text("SELECT id, title, dek, summary, body_html FROM publications"))
    insert = sa.text(
        "INSERT INTO publication_search (publication_id, title, dek, body, names) "
        "VALUES (:publication_id, :title, :dek, :body, :names)"
    )
    while batch := rows.fetchmany(1000):
        bind.execute(
            insert,
            [
                {
                    "publication_id": id_,
                    "title": title,
                    "dek": " ".join(part for part in (dek, summary) if part),
                    "body": _plain(body_html),
                    "names": " ".join(names.get(id_, [])),
                }
                for id_, title, dek, summary, body_html in batch
            ],
        )


def downgrade():
    op.drop_index("ix_publication_topics_topic_publication", table_name="publication_topics")
    op.create_index("ix_publication_topics_topic_id", "publication_topics", ["topic_id"])
    op.drop_index("ix_publication_types_type_publication", table_name="publication_types")
    op.create_index("ix_publication_types_type_id", "publication_types", ["type_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_comments_fulltext")
    else:
        for trigger in ("comments_fts_ai", "comments_fts_ad", "comments_fts_au"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE comment_fts")
        op.execute("DROP TABLE publication_fts")
    op.drop_table("publication_search")
