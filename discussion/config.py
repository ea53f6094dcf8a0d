"""Package defaults. Overridden by ``instance/config.py``, then ``FLASK_*`` variables."""

from pathlib import Path

# Filled in by create_app with an absolute path into instance/.
SQLALCHEMY_DATABASE_URI: str | None = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

# Secret key: none by default; create_app refuses to start without one
# outside debug/testing (``flask --app discussion setup`` writes one).
SECRET_KEY: str | None = None

# Largest request body accepted (bytes); larger answers 413.
MAX_CONTENT_LENGTH = 64 * 1024

# Comments
COMMENT_MAX_LENGTH = 5000
COMMENT_NAME_MAX_LENGTH = 80
COMMENT_MAX_DEPTH = 4  # replies nest this deep; deeper replies sit at the last level
COMMENT_THREADS_PER_PAGE = 50  # top-level comments per page of an article

# Listings
PUBLICATIONS_PER_PAGE = 10
FRONT_PAGE_PUBLICATIONS = 6
RELATED_LIMIT = 4

# The seed data file the ``seed`` command imports.
SEED_DATA_FILE = str(Path(__file__).parent / "data" / "seed.json")

# Shown in the header and page titles.
SITE_NAME = "Discussion"
# Closing line of every article, unless a publication has its own.
COMMENT_INVITATION = "Tell us what you think by submitting a comment below."
