"""archive: where imported publications and comments came from, old addresses, erasures

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 16:00:00

"""

import sqlalchemy as sa
from alembic import op

from discussion.discovery.fulltext import SQLITE_COMMENT_TRIGGERS

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("publications") as batch:
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("source_id", sa.String(length=300), nullable=True))
        batch.create_unique_constraint("uq_publications_source", ["source", "source_id"])
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("website", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("source_id", sa.String(length=300), nullable=True))
        batch.create_unique_constraint("uq_comments_source", ["source", "source_id"])
    _restore_comment_triggers()
    op.create_table(
        "legacy_addresses",
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name="fk_legacy_addresses_publication_id_publications",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("path", name="pk_legacy_addresses"),
    )
    op.create_index("ix_legacy_addresses_publication_id", "legacy_addresses", ["publication_id"])
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["moderators.id"], name="fk_erasures_admin_id_moderators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_erasures"),
    )
    op.create_index("ix_erasures_address_hash", "erasures", ["address_hash"])


def downgrade():
    op.drop_index("ix_erasures_address_hash", table_name="erasures")
    op.drop_table("erasures")
    op.drop_index("ix_legacy_addresses_publication_id", table_name="legacy_addresses")
    op.drop_table("legacy_addresses")
    with op.batch_alter_table("comments") as batch:
        batch.drop_constraint("uq_comments_source", type_="unique")
        batch.drop_column("source_id")
        batch.drop_column("source")
        batch.drop_column("website")
    _restore_comment_triggers()
    with op.batch_alter_table("publications") as batch:
        batch.drop_constraint("uq_publications_source", type_="unique")
        batch.drop_column("source_id")
        batch.drop_column("source")


def _restore_comment_triggers():
    """SQLite rebuilt "comments" (batch mode) and dropped its triggers with the old table."""
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_COMMENT_TRIGGERS:
            op.execute(statement)
