"""open interfaces: staff API tokens, and the pages of other sites that embed a thread

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 16:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("read", "decide", name="token_scope", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["moderators.id"],
            name=op.f("fk_api_tokens_moderator_id_moderators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_moderator_id"), "api_tokens", ["moderator_id"])
    op.create_table(
        "publication_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_publication_urls_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_urls")),
        sa.UniqueConstraint("url_hash", name=op.f("uq_publication_urls_url_hash")),
    )
    op.create_index(
        op.f("ix_publication_urls_publication_id"), "publication_urls", ["publication_id"]
    )


def downgrade():
    op.drop_index(op.f("ix_publication_urls_publication_id"), table_name="publication_urls")
    op.drop_table("publication_urls")
    op.drop_index(op.f("ix_api_tokens_moderator_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
