"""conversation: posters' edits and deletions, editors' picks, recommendations, staff authors

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 16:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from discussion.discovery.fulltext import SQLITE_COMMENT_TRIGGERS

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

STATES = ("pending", "approved", "rejected", "spam")


def _state_type():
    if op.get_bind().dialect.name == "postgresql":
        return postgresql.ENUM(*STATES, name="comment_state", create_type=False)
    return sa.Enum(*STATES, name="comment_state")


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("featured_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("featured_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("recommendations", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_featured_by_moderators"), "moderators", ["featured_by"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_staff_id_moderators"), "moderators", ["staff_id"], ["id"]
        )
    if op.get_bind().dialect.name == "sqlite":  # rebuilding the table dropped its triggers
        for statement in SQLITE_COMMENT_TRIGGERS:
            op.execute(statement)

    op.create_table(
        "comment_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("state", _state_type(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_edits_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_edits")),
    )
    with op.batch_alter_table("comment_edits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comment_edits_comment_id"), ["comment_id"], unique=False
        )

    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_recommendations_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
        sa.UniqueConstraint("comment_id", "visitor", name=op.f("uq_recommendations_comment_id")),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recommendations_comment_address", ["comment_id", "address"], unique=False
        )


def downgrade():
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index("ix_recommendations_comment_address")
    op.drop_table("recommendations")
    with op.batch_alter_table("comment_edits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_edits_comment_id"))
    op.drop_table("comment_edits")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_comments_staff_id_moderators"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_comments_featured_by_moderators"), type_="foreignkey"
        )
        batch_op.drop_column("staff_id")
        batch_op.drop_column("recommendations")
        batch_op.drop_column("featured_by")
        batch_op.drop_column("featured_at")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_COMMENT_TRIGGERS:
            op.execute(statement)
