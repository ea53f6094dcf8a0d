"""decision states as the comment-state enum

A decision's from and to states were free strings; they are now the same enum type as a
comment's state, so only a real state can be recorded. Existing rows keep their values
(every stored value is already a state).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATES = ("pending", "approved", "rejected", "spam")
COLUMNS = ("from_state", "to_state")


def _state_type():
    if op.get_bind().dialect.name == "postgresql":
        return postgresql.ENUM(*STATES, name="comment_state", create_type=False)
    return sa.Enum(*STATES, name="comment_state")


def upgrade():
    state = _state_type()
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=16),
                type_=state,
                existing_nullable=False,
                postgresql_using=f"{column}::comment_state",
            )


def downgrade():
    state = _state_type()
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(
                column,
                existing_type=state,
                type_=sa.String(length=16),
                existing_nullable=False,
                postgresql_using=f"{column}::text",
            )
