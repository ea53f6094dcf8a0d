"""Mail figures: how fast the worker delivers to a local SMTP sink, and whether comment
POSTs slow down with 10,000 notices queued (target: within 10 % of none).

    .venv/bin/python bench/mail.py                         # SQLite
    .venv/bin/python bench/mail.py --database postgresql   # database discussion_bench_mail

1. Delivery: ``--mails`` confirmation mails in the outbox, one ``worker --once`` in this
   process, an aiosmtpd sink (``aiosmtpd.handlers.Sink``) in another; mails per second.
2. POST rate: gunicorn (2 workers), ``--clients`` threads posting ``--posts`` comments
   (each one a held comment: a moderator alert is queued with it) with the outbox empty;
   with 10,000 notices queued; with 10,000 queued and a worker running against a mail
   server that is down. Rounds alternate the order (so drift cancels); the median of
   ``--rounds`` each.

Loopback only; each step is bounded (a few seconds to a minute on a 2-core machine).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from processes import ROOT, free_port, gunicorn, start, stop

PYTHON = sys.executable
SLUG = "khamenei-rejects-us-talks-on-twitter"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_NAME = "discussion_bench_mail"
SECRET = secrets.token_hex(32)
BACKLOG = 10_000
STATES = ("none", "10k queued", "10k + worker, down")


def env(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": url,
        "FLASK_SECRET_KEY": SECRET,
        "FLASK_RATELIMIT_ENABLED": "false",
        "FLASK_SECURE_COOKIES": "false",
        "FLASK_SITE_URL": "https://news.example.org",
        **extra,
    }


def flask(url: str, *args: str, **extra: str) -> None:
    subprocess.run(
        [PYTHON, "-m", "flask", "--app", "discussion", *args],
        env=env(url, **extra),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'mail.sqlite3'}"
    else:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {PG_NAME}"))
        engine.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"
    flask(url, "db", "upgrade")
    flask(url, "seed")
    flask(url, "create-moderator", "desk", "--password", SECRET, "--email", "desk@example.org")
    return url


def app_for(url: str, **config: object):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT))
    from discussion import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "TESTING": True, **config}
    )


def queue_confirmations(url: str, count: int) -> None:
    """``count`` confirmation mails, each to an address of its own (10,000 readers)."""
    from sqlalchemy import insert, select

    from discussion.extensions import db
    from discussion.models import MailAddress, MailStatus, OutboxMail, utcnow

    app = app_for(url)
    with app.app_context():
        now = utcnow()
        tag = secrets.token_hex(4)
        db.session.execute(
            insert(MailAddress),
            [{"address_hash": f"{tag}-{n}", "created_at": now} for n in range(count)],
        )
        ids = db.session.scalars(
            select(MailAddress.id).where(MailAddress.address_hash.like(f"{tag}-%"))
        ).all()
        db.session.execute(
            insert(OutboxMail),
            [
                {
                    "kind": "confirm",
                    "recipient": f"reader{n}@example.org",
                    "payload": {"address_id": address_id},
                    "status": MailStatus.QUEUED,
                    "created_at": now,
                    "due_at": now,
                    "attempts": 0,
                }
                for n, address_id in enumerate(ids)
            ],
        )
        db.session.commit()
        db.engine.dispose()


def clear_outbox(url: str) -> None:
    from sqlalchemy import delete

    from discussion.extensions import db
    from discussion.models import MailAddress, OutboxMail

    app = app_for(url)
    with app.app_context():
        db.session.execute(delete(OutboxMail))
        db.session.execute(delete(MailAddress))
        db.session.commit()
        db.engine.dispose()


def settle(url: str) -> None:
    """After the bulk changes: fresh statistics, and no autovacuum run starting mid-round
    (PostgreSQL); SQLite: a checkpoint of the write-ahead log."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()


def wait_for_first_round(url: str) -> None:
    """Until the worker has tried its first batch (and found the server down)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                tried = conn.scalar(sa.text("SELECT count(*) FROM mail_outbox WHERE attempts > 0"))
            if tried:
                return
            time.sleep(0.2)
        raise RuntimeError("the worker did not start")
    finally:
        engine.dispose()


def sink(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with http.client.socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def delivery_rate(url: str, mails: int) -> tuple[int, float]:
    from discussion.mail import worker

    port = free_port()
    server = sink(port)
    try:
        wait_for_port(port)
        clear_outbox(url)
        queue_confirmations(url, mails)
        app = app_for(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_BATCH_SIZE=50)
        with app.app_context():
            started = time.perf_counter()
            handled = worker.run_once()
            seconds = time.perf_counter() - started
        return handled, seconds
    finally:
        server.terminate()
        server.wait(10)


def post_rate(port: int, posts: int, clients: int) -> float:
    """Comments per second, ``clients`` threads posting ``posts`` between them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/publications/{SLUG}")
    page = conn.getresponse().read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    conn.close()
    lock = threading.Lock()
    left = [posts]
    failures: list[int] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
                n = left[0]
            body = urlencode(
                {
                    "name": "Bench",
                    "email": f"bench{n}@example.org",
                    "body": f"mail bench {secrets.token_hex(4)} {n}",
                    "csrf_token": token,
                }
            )
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            connection.request("POST", f"/publications/{SLUG}/comments", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 303:
                failures.append(response.status)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} posts failed: {set(failures)}")
    return posts / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.database, Path(tmp))
        handled, seconds = delivery_rate(url, args.mails)
        print(f"delivery: {handled} mails in {seconds:.2f} s = {handled / seconds:.0f} mails/s")

        port = free_port()
        server = start(gunicorn(PYTHON, "discussion:create_app()", port, 2), env(url), port)
        dead_port = free_port()  # nothing listens: the mail server is down
        rates: dict[str, list[float]] = {name: [] for name in STATES}
        try:
            for round_number in range(args.rounds):
                order = STATES if round_number % 2 == 0 else STATES[::-1]  # drift cancels
                for name in order:
                    clear_outbox(url)
                    if name != "none":
                        queue_confirmations(url, BACKLOG)
                    settle(url)
                    worker = None
                    if name == "10k + worker, down":
                        worker = subprocess.Popen(
                            [PYTHON, "-m", "flask", "--app", "discussion", "worker"],
                            env=env(
                                url, FLASK_MAIL_SERVER="127.0.0.1", FLASK_MAIL_PORT=str(dead_port)
                            ),
                            cwd=ROOT,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True,
                        )
                        wait_for_first_round(url)  # its start-up is not what is measured
                    try:
                        rates[name].append(post_rate(port, args.posts, args.clients))
                    finally:
                        if worker is not None:
                            worker.terminate()
                            worker.wait(30)
        finally:
            stop(server)
        base = statistics.median(rates["none"])
        for name, values in rates.items():
            median = statistics.median(values)
            runs = ", ".join(f"{v:.0f}" for v in values)
            print(
                f"POST rate, outbox {name}: median {median:.0f}/s ({runs}); "
                f"{(median / base - 1) * 100:+.1f} % against none"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
