"""mail: the outbox, readers' addresses and subscriptions, periodic job runs, staff email

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 14:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STATES = ("pending", "approved", "rejected", "spam")
MAIL_STATUSES = ("queued", "sent", "failed", "dropped")
PREFERENCES = ("each", "digest", "none")


def _state_type():
    if op.get_bind().dialect.name == "postgresql":
        return postgresql.ENUM(*STATES, name="comment_state", create_type=False)
    return sa.Enum(*STATES, name="comment_state")


def upgrade():
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("batch_key", sa.String(length=120), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*MAIL_STATUSES, name="mail_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_mail_outbox_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_mail_outbox_recipient_sent", ["recipient", "sent_at"], unique=False
        )
        batch_op.create_index("ix_mail_outbox_batch", ["batch_key", "status"], unique=False)

    op.create_table(
        "mail_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmation_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_addresses")),
        sa.UniqueConstraint("address_hash", name=op.f("uq_mail_addresses_address_hash")),
    )
    op.create_table(
        "mail_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("root_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("outcome", sa.Boolean(), nullable=False),
        sa.Column("replies", sa.Boolean(), nullable=False),
        sa.Column("outcome_sent", _state_type(), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["mail_addresses.id"],
            name=op.f("fk_mail_subscriptions_address_id_mail_addresses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_mail_subscriptions_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_subscriptions")),
    )
    with op.batch_alter_table("mail_subscriptions", schema=None) as batch_op:
        for column in ("address_id", "comment_id", "root_id"):
            batch_op.create_index(
                batch_op.f(f"ix_mail_subscriptions_{column}"), [column], unique=False
            )

    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )

    with op.batch_alter_table("moderators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column(
                "mail_preference",
                sa.Enum(*PREFERENCES, name="mail_preference", native_enum=False, length=16),
                server_default="each",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("digest_hours", sa.Integer(), server_default="4", nullable=False)
        )
        batch_op.add_column(sa.Column("digest_sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("moderators", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_at")
        batch_op.drop_column("digest_hours")
        batch_op.drop_column("mail_preference")
        batch_op.drop_column("email")
    op.drop_table("job_runs")
    with op.batch_alter_table("mail_subscriptions", schema=None) as batch_op:
        for column in ("root_id", "comment_id", "address_id"):
            batch_op.drop_index(batch_op.f(f"ix_mail_subscriptions_{column}"))
    op.drop_table("mail_subscriptions")
    op.drop_table("mail_addresses")
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_outbox_batch")
        batch_op.drop_index("ix_mail_outbox_recipient_sent")
        batch_op.drop_index("ix_mail_outbox_status_due")
    op.drop_table("mail_outbox")
