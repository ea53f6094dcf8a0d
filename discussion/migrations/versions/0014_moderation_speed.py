"""moderation at speed: tab counts kept by triggers, the queue's publication index;
sanctions and notes on authors; the spam score's model; rules by topic

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 16:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SLOTS = 16  # the site-wide counts are spread over this many rows (comment id modulo)

# What a comment adds to the counts: its state, "all", and "reported" when it is approved
# with open reports. Kept in step by triggers on every insert, delete and change of state,
# reports or publication, whoever makes it (posts, decisions, withdrawals, cascades).
SQLITE_STATUSES = (
    "SELECT {row}.state AS s UNION ALL SELECT 'all' UNION ALL SELECT 'reported' "
    "WHERE {row}.state = 'approved' AND {row}.open_reports > 0"
)
SQLITE_CHANGE = """
    INSERT INTO comment_counts (slot, status, n)
    SELECT {row}.id % {slots}, s, {delta} FROM ({statuses}) WHERE true
    ON CONFLICT (slot, status) DO UPDATE SET n = n + excluded.n;
    INSERT INTO comment_counts_by_publication (publication_id, status, n)
    SELECT {row}.publication_id, s, {delta} FROM ({statuses}) WHERE true
    ON CONFLICT (publication_id, status) DO UPDATE SET n = n + excluded.n;
"""
# A deletion only lowers rows that exist (a deleted publication's rows are gone first).
SQLITE_REMOVE = """
    UPDATE comment_counts SET n = n - 1 WHERE slot = OLD.id % {slots}
        AND status IN (SELECT s FROM ({statuses}));
    UPDATE comment_counts_by_publication SET n = n - 1 WHERE publication_id = OLD.publication_id
        AND status IN (SELECT s FROM ({statuses}));
"""
CHANGED = (
    "OLD.state IS NOT NEW.state OR OLD.publication_id IS NOT NEW.publication_id "
    "OR (OLD.open_reports > 0) IS NOT (NEW.open_reports > 0)"
)

POSTGRES_FUNCTION = f"""
CREATE FUNCTION comment_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_statuses text[] := '{{}}';
    new_statuses text[] := '{{}}';
    old_slot integer;
    new_slot integer;
    old_publication integer;
    new_publication integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_statuses := ARRAY[OLD.state::text, 'all'];
        IF OLD.state = 'approved' AND OLD.open_reports > 0 THEN
            old_statuses := old_statuses || 'reported'::text;
        END IF;
        old_slot := OLD.id % {SLOTS};
        old_publication := OLD.publication_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_statuses := ARRAY[NEW.state::text, 'all'];
        IF NEW.state = 'approved' AND NEW.open_reports > 0 THEN
            new_statuses := new_statuses || 'reported'::text;
        END IF;
        new_slot := NEW.id % {SLOTS};
        new_publication := NEW.publication_id;
    END IF;
    IF TG_OP = 'DELETE' THEN  -- a deleted publication's rows are gone already
        UPDATE comment_counts SET n = n - 1
        WHERE slot = old_slot AND status = ANY(old_statuses);
        UPDATE comment_counts_by_publication SET n = n - 1
        WHERE publication_id = old_publication AND status = ANY(old_statuses);
        RETURN NULL;
    END IF;
    -- One statement per table, rows in a fixed order, so two transactions never wait
    -- on each other's rows in opposite orders.
    INSERT INTO comment_counts AS c (slot, status, n)
    SELECT slot, status, sum(delta) FROM (
        SELECT old_slot AS slot, s AS status, -1 AS delta FROM unnest(old_statuses) AS s
        UNION ALL
        SELECT new_slot, s, 1 FROM unnest(new_statuses) AS s
    ) AS changes GROUP BY slot, status HAVING sum(delta) <> 0 ORDER BY slot, status
    ON CONFLICT (slot, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO comment_counts_by_publication AS c (publication_id, status, n)
    SELECT publication_id, status, sum(delta) FROM (
        SELECT old_publication AS publication_id, s AS status, -1 AS delta
        FROM unnest(old_statuses) AS s
        UNION ALL
        SELECT new_publication, s, 1 FROM unnest(new_statuses) AS s
    ) AS changes GROUP BY publication_id, status HAVING sum(delta) <> 0
    ORDER BY publication_id, status
    ON CONFLICT (publication_id, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END;
$$;
"""

BACKFILL = """
INSERT INTO comment_counts (slot, status, n)
SELECT id % {slots}, CAST(state AS VARCHAR), count(*) FROM comments GROUP BY 1, 2
UNION ALL SELECT id % {slots}, 'all', count(*) FROM comments GROUP BY 1
UNION ALL SELECT id % {slots}, 'reported', count(*) FROM comments
    WHERE state = 'approved' AND open_reports > 0 GROUP BY 1;
INSERT INTO comment_counts_by_publication (publication_id, status, n)
SELECT publication_id, CAST(state AS VARCHAR), count(*) FROM comments GROUP BY 1, 2
UNION ALL SELECT publication_id, 'all', count(*) FROM comments GROUP BY 1
UNION ALL SELECT publication_id, 'reported', count(*) FROM comments
    WHERE state = 'approved' AND open_reports > 0 GROUP BY 1;
"""


def upgrade():
    op.create_table(
        "comment_counts",
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slot", "status", name=op.f("pk_comment_counts")),
    )
    op.create_table(
        "comment_counts_by_publication",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_comment_counts_by_publication_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "publication_id", "status", name=op.f("pk_comment_counts_by_publication")
        ),
    )
    op.create_index(
        "ix_comment_counts_by_publication_status_n",
        "comment_counts_by_publication",
        ["status", "n"],
    )
    op.create_index(
        "ix_comments_publication_state_id", "comments", ["publication_id", "state", "id"]
    )
    _sanction_tables()
    _spam_tables()
    _topic_rules()
    for statement in BACKFILL.format(slots=SLOTS).split(";"):
        if statement.strip():
            op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            "CREATE TRIGGER comment_counts_follow AFTER INSERT OR DELETE OR UPDATE OF "
            "state, open_reports, publication_id ON comments "
            "FOR EACH ROW EXECUTE FUNCTION comment_counts_follow()"
        )
    else:
        new = SQLITE_CHANGE.format(
            row="NEW", slots=SLOTS, delta=1, statuses=SQLITE_STATUSES.format(row="NEW")
        )
        old = SQLITE_CHANGE.format(
            row="OLD", slots=SLOTS, delta=-1, statuses=SQLITE_STATUSES.format(row="OLD")
        )
        remove = SQLITE_REMOVE.format(slots=SLOTS, statuses=SQLITE_STATUSES.format(row="OLD"))
        op.execute(f"CREATE TRIGGER comment_counts_insert AFTER INSERT ON comments BEGIN {new} END")
        op.execute(
            f"CREATE TRIGGER comment_counts_delete AFTER DELETE ON comments BEGIN {remove} END"
        )
        op.execute(
            "CREATE TRIGGER comment_counts_update AFTER UPDATE OF state, open_reports, "
            f"publication_id ON comments WHEN {CHANGED} BEGIN {old} {new} END"
        )


def _sanction_tables():
    op.create_table(
        "sanctions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("email", "address", name="sanction_kind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "action",
            sa.Enum("block", "premoderate", name="sanction_action", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.Integer(), nullable=True),
        sa.Column("refused", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_sanctions_comment_id_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"], ["moderators.id"], name=op.f("fk_sanctions_moderator_id_moderators")
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by"], ["moderators.id"], name=op.f("fk_sanctions_lifted_by_moderators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanctions")),
    )
    op.create_index("ix_sanctions_key", "sanctions", ["key"])
    op.create_table(
        "author_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["moderators.id"],
            name=op.f("fk_author_notes_moderator_id_moderators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_notes")),
    )
    op.create_index("ix_author_notes_key", "author_notes", ["key"])


def _spam_tables():
    op.create_table(
        "spam_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("spam", sa.Integer(), nullable=False),
        sa.Column("ham", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_spam_tokens")),
    )
    op.create_table(
        "spam_labels",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("spam", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_spam_labels_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_spam_labels")),
    )
    op.create_table(
        "spam_scores",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_spam_scores_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_spam_scores")),
    )


def _topic_rules():
    op.create_table(
        "topic_rules",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("hold_all", sa.Boolean(), nullable=False),
        sa.Column("suspect_words", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_rules_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", name=op.f("pk_topic_rules")),
    )


def downgrade():
    op.drop_table("topic_rules")
    op.drop_table("spam_scores")
    op.drop_table("spam_labels")
    op.drop_table("spam_tokens")
    op.drop_index("ix_author_notes_key", table_name="author_notes")
    op.drop_table("author_notes")
    op.drop_index("ix_sanctions_key", table_name="sanctions")
    op.drop_table("sanctions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER comment_counts_follow ON comments")
        op.execute("DROP FUNCTION comment_counts_follow()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER comment_counts_{name}")
    op.drop_index("ix_comments_publication_state_id", table_name="comments")
    op.drop_index(
        "ix_comment_counts_by_publication_status_n", table_name="comment_counts_by_publication"
    )
    op.drop_table("comment_counts_by_publication")
    op.drop_table("comment_counts")
