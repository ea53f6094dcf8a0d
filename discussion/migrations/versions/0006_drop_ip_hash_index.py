"""drop the address hash index

The duplicate rule asks for the same text from the same email or address; with an
index on the address hash, PostgreSQL scanned every comment from a busy address (one
NAT, one proxy) instead of the text-hash index, and each such post got slower.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 09:05:00

"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_ip_hash")


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_ip_hash", ["ip_hash"], unique=False)
