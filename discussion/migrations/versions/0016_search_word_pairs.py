"""the word pairs of each publication's search text, indexed on PostgreSQL: a quoted
phrase is looked up by its adjacent words through the index

PostgreSQL's GIN index of the search documents holds no word positions: a phrase of two
common words was checked in every publication holding both (each document read from
TOAST), 0.3-0.9 s at 100,000 publications. This index holds each field's pairs of
adjacent words (stemmed, as the document has them): a phrase's candidates are the
publications with all its pairs, nearly only those with the phrase. SQLite's FTS5 keeps
positions in its own index: nothing changes there.

Building the index parses every publication's text once more, with saves of publications
waiting: 1 min 31 s for 100,000 synthetic publications of 330 words on the 2-core
development machine, 402 MB of index (the documents' own: 74 MB). Saving a publication
then parses its text twice.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 08:00:00

"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Each field's adjacent words, "first second", as to_tsvector numbers them (stop words
# leave a gap: they pair with nothing). Immutable, as an index expression must be.
PAIRS_FUNCTION = """
CREATE FUNCTION publication_search_pairs(title text, dek text, body text, names text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH words AS (
        SELECT f.field, w.lexeme, p.at
        FROM unnest(ARRAY[title, dek, body, names]) WITH ORDINALITY AS f(part, field)
        CROSS JOIN LATERAL unnest(to_tsvector('english', coalesce(f.part, ''))) AS w
        CROSS JOIN LATERAL unnest(w.positions) AS p(at)
    )
    SELECT coalesce(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme), '{}')
    FROM words a JOIN words b ON b.field = a.field AND b.at = a.at + 1
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(PAIRS_FUNCTION)
    op.execute(
        "CREATE INDEX ix_publication_search_pairs ON publication_search "
        "USING gin (publication_search_pairs(title, dek, body, names))"
    )
    # The pairs' shares, which the search reads to choose its plan (an index's
    # expression has none until the table is analyzed).
    op.execute("ANALYZE publication_search")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_publication_search_pairs")
    op.execute("DROP FUNCTION publication_search_pairs(text, text, text, text)")
