"""Package defaults. Overridden by ``instance/config.py``, then ``FLASK_*`` variables."""

from pathlib import Path

# Filled in by create_app with an absolute path into instance/.
SQLALCHEMY_DATABASE_URI: str | None = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # PostgreSQL gets a connect timeout (database.py)
# When the database cannot answer, a request gets a 503 page (its typed text kept)
# after at most this long: waiting for SQLite's write lock, connecting to PostgreSQL.
SQLITE_BUSY_SECONDS = 10
# SQLite's durability (WAL). "FULL": each commit is synced to disk before the answer, so
# an acknowledged comment survives a power loss or an OS crash. "NORMAL": commits are
# synced only at checkpoints; posting is faster, the file stays consistent and nothing
# is lost when the app or its server process crashes, but a power loss or an OS crash
# may lose some or all commits since the last checkpoint (README, "Running in production").
SQLITE_SYNCHRONOUS = "FULL"
DATABASE_CONNECT_SECONDS = 5
RETRY_AFTER_SECONDS = 5  # what a 503 tells browsers and API clients

# Secret key: none by default; create_app refuses to start without one outside
# debug/testing (``python -m discussion.quickstart`` writes one into instance/).
SECRET_KEY: str | None = None

# Largest request body accepted (bytes); larger answers 413.
MAX_CONTENT_LENGTH = 128 * 1024  # a 5,000-character comment of 4-byte characters, encoded

# Comments
COMMENT_MAX_LENGTH = 5000  # characters of a comment (a line break counts as one)
COMMENT_MAX_DEPTH = 4  # replies nest this deep; deeper replies sit at the last level
COMMENT_THREADS_PER_PAGE = 50  # top-level comments per page of an article
COMMENT_EDIT_MINUTES = 15  # a poster may edit or delete their comment this long after posting
COMMENT_SORT_DEFAULT = "oldest"  # the thread's order unless a reader picks: oldest, newest,
# recommended
RECOMMENDATIONS_PER_ADDRESS = 3  # of one comment from one client address (a household)
COMMENT_POLL_SECONDS = 10  # how often an open article asks whether comments were approved

# Listings
PUBLICATIONS_PER_PAGE = 10
FRONT_PAGE_PUBLICATIONS = 6
RELATED_LIMIT = 4  # entries of a stored related list

# The seed data file the ``seed`` command imports.
SEED_DATA_FILE = str(Path(__file__).parent / "data" / "seed.json")

# Shown in the header and page titles.
SITE_NAME = "Discussion"
# Editors type times, and readers see dates, in this time zone (IANA name); stored in UTC.
SITE_TIMEZONE = "UTC"

# The editorial desk
DESK_PAGE_SIZE = 25  # publications per page of the desk's list
PREVIEW_LINK_HOURS = 72  # how long a shared preview link of an unpublished article works
# Uploaded images: a directory (default instance/media); on several hosts, a shared volume.
MEDIA_ROOT: str | None = None
# The desk's forms carry long texts and images: their requests may be this large.
DESK_MAX_CONTENT_LENGTH = 12 * 1024 * 1024
DESK_MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024  # the text fields of one desk form
# Closing line of every article, unless a publication has its own.
COMMENT_INVITATION = "Tell us what you think by submitting a comment below."

# Moderation rules: the defaults an admin can change in the UI (stored overrides win).
MODERATION_PREMODERATION = True  # hold every comment; False: publish unless a rule holds it
MODERATION_AUTO_APPROVE_KNOWN_AUTHORS = False
MODERATION_KNOWN_AUTHORS_CONFIRMED_ONLY = True  # ...only if they confirmed the address by mail
MODERATION_MAX_LINKS = 2
MODERATION_TRUSTED_DOMAINS: list[str] = []
SITE_DOMAIN: str | None = None  # the site's own domain (e.g. "news.example.org"): trusted
MODERATION_SUSPECT_WORDS: list[str] = []
MODERATION_BANNED_WORDS: list[str] = []
MODERATION_CLOSE_AFTER_DAYS: int | None = None
MODERATION_MODERATE_AFTER_DAYS: int | None = None
MODERATION_REPORTS_TO_HIDE = 3
MODERATION_QUEUE_PAGE_SIZE = 25
# The spam score (learned from moderators' decisions): hold, or send to spam, from this
# percent (None: never); it acts only once it has learned this many decisions.
MODERATION_SPAM_HOLD_AT: int | None = 80
MODERATION_SPAM_SEND_AT: int | None = None
MODERATION_SPAM_MIN_DECISIONS = 200

# Rate limits (Flask-Limiter). memory:// per process; redis://host:6379 to share.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = False
RATELIMIT_COMMENTS = "5/minute;50/day"
RATELIMIT_REPORTS = "10/minute;100/day"
RATELIMIT_RECOMMENDATIONS = "30/minute;300/day"
RATELIMIT_LOGIN_ADDRESS = "10/minute;50/hour"  # failed sign-ins from one address
RATELIMIT_LOGIN_ACCOUNT = "5/minute;20/hour"  # failed sign-ins for one account
# Mail confirmation requests one client address may cause (over it the comment is still
# posted, its wish kept, and no confirmation goes out): the form is no mail cannon.
RATELIMIT_MAIL_CONFIRMATIONS = "3/hour;10/day"

# Raw addresses and user agents are erased after this many days (daily by the worker,
# or `flask --app discussion erase-personal-data`).
PERSONAL_DATA_DAYS = 30

# Cookies carry the Secure flag unless this is False; None means "on unless debugging
# or testing". The quickstart, which serves plain http on 127.0.0.1, sets it False.
SECURE_COOKIES: bool | None = None
# Reverse proxies in front of the app (nginx: 1), so client addresses and https are known.
PROXY_COUNT = 0

# Caches (Flask-Caching): in-process by default; "RedisCache" with CACHE_REDIS_URL to share.
CACHE_TYPE = "SimpleCache"
CACHE_DEFAULT_TIMEOUT = 600
CACHE_THRESHOLD = 300  # SimpleCache entries per process (rendered pages of ~20-100 KB)
# Redis, when it is the cache or the rate limits' storage, answers fast or not at all:
# a stopped or hung Redis costs a request at most this long, then the site goes on
# without it (caches skipped, limits kept in each process) until it is back.
# (CACHE_OPTIONS gets the same timeouts when CACHE_TYPE is RedisCache: extensions.Cache.)
REDIS_TIMEOUT_SECONDS = 0.25
RATELIMIT_STORAGE_OPTIONS = {
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
}
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_SWALLOW_ERRORS = True
SETTINGS_CACHE_SECONDS = 10  # how long another process may use moderation rules before a change

# CSRF tokens of every form but the comment form (sign-in, moderation, report, status
# link) are bound to the session; without a time limit a page kept by the browser keeps
# a working form.
WTF_CSRF_TIME_LIMIT = None
# The comment form's token is the same for every reader (discussion/pagetoken.py) and
# renewed hourly; a page opened this long ago can still post.
COMMENT_FORM_TOKEN_MAX_AGE = 2 * 24 * 3600

# Anonymous article pages are marked for shared caches (a CDN, nginx, and each server
# process's own page cache) for this many seconds: how long a change made through
# another process may take to reach readers. The process making it shows it at once.
SHARED_PAGE_SECONDS = 1
# Pages each process keeps for first-time readers; as many again of what readers with a
# session share (an article's body, a listing: web/pagecache.keep).
PAGE_CACHE_ENTRIES = 200
# The caching proxy's refresh address (deploy/nginx.conf: "http://127.0.0.1:8081"): after
# a change to a few publications the app asks it for their articles' first pages again at
# once (discussion/publications/refresh.py), so an approval shows through it without
# waiting for its copy to expire. Empty: the copies expire.
PROXY_REFRESH_URL = ""
# Rendered comment threads each process keeps by content (discussion/comments/fragments.py),
# so a page changed by one comment renders only that comment's thread; 0 keeps none.
# Counts the HTML; keys and bookkeeping add about 200 bytes a thread.
COMMENT_FRAGMENT_BYTES = 4_000_000

# The site's address: every absolute link in a mail starts with it, never with the Host
# header of the request that caused the mail. Required for mail outside debug/testing
# (the quickstart sets it to the address it serves).
SITE_URL: str | None = None  # e.g. "https://news.example.org"
# The host names requests may carry (Flask refuses any other Host with a 400). Production
# lists the site's own, e.g. FLASK_TRUSTED_HOSTS='["news.example.org"]'; None accepts any.
TRUSTED_HOSTS: list[str] | None = None

# Mail (Flask-Mailman). With no MAIL_SERVER, mails are written as .eml files under
# MAIL_FILE_PATH (default instance/mail/). FLASK_MAIL_SERVER=… and so on work.
MAIL_SERVER: str | None = None
MAIL_PORT = 25
MAIL_USE_TLS = False  # STARTTLS
MAIL_USE_SSL = False  # TLS from the start (port 465)
MAIL_USERNAME: str | None = None
MAIL_PASSWORD: str | None = None
MAIL_DEFAULT_SENDER: str | None = None  # the address; the site's name is the sender name
MAIL_TIMEOUT = 10  # seconds to wait for the mail server
MAIL_FILE_PATH: str | None = None

# The outbox and its worker (`flask --app discussion worker`).
MAIL_BATCH_SIZE = 50  # mails one worker claims at a time
MAIL_WORKER_POLL_SECONDS = 5  # how often an idle worker looks for due mail and jobs
MAIL_RETRY_FIRST_SECONDS = 60  # first wait after a temporary failure; doubles each time
MAIL_RETRY_MAX_SECONDS = 3600  # ... up to this
MAIL_RETRY_HOURS = 48  # then the mail is failed and shown to admins
MAIL_RECIPIENT_DAILY_CAP = 20  # readers' notices to one address per 24 h; more wait
MAIL_CONFIRMATION_INTERVAL_HOURS = 24  # at most one confirmation request per address
MAIL_REPLY_INTERVAL_MINUTES = 60  # at most one reply notice per thread and address
MAIL_STALE_QUEUE_HOURS = 12  # alert moderators when the oldest pending comment is older

# Open interfaces (discussion/api, discussion/embed, discussion/operations).
# Sites whose pages may show and post these comments (``/embed.js``) and call the API
# from browsers (CORS): origins such as "https://www.example.org". Empty: none.
EMBED_ORIGINS: list[str] = []
# A comment on an embedding page no publication has yet creates a minimal one.
EMBED_CREATE_PUBLICATIONS = False
# /metrics answers only these addresses or networks (after PROXY_COUNT's proxies).
METRICS_ALLOWED_NETWORKS: list[str] = ["127.0.0.1/32", "::1/128"]
# "json": logs as JSON lines (one per request too), each with its request id.
LOG_FORMAT = "text"
