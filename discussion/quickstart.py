"""First run on a fresh machine: secret key, schema, seed content, then serve.

``python -m discussion.quickstart`` — safe to run again; it changes only what is missing.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from . import ROOT, create_app
from .extensions import db
from .mail import worker
from .publications import content

CONFIG = ROOT / "instance" / "config.py"


def ensure_secret_key() -> None:
    """Write a random SECRET_KEY into instance/config.py unless one is configured."""
    if os.environ.get("FLASK_SECRET_KEY"):
        return
    text = CONFIG.read_text() if CONFIG.exists() else ""
    if "SECRET_KEY" in text:
        return
    CONFIG.parent.mkdir(exist_ok=True)
    with CONFIG.open("a") as config:
        config.write(f"SECRET_KEY = {secrets.token_hex(32)!r}\n")
        config.write("# Served over plain http on 127.0.0.1: cookies cannot be Secure-only.\n")
        config.write("SECURE_COOKIES = False\n")
    CONFIG.chmod(0o600)


def start_worker(app: Flask) -> threading.Thread:
    """The mail worker in this process (production runs it as its own service)."""

    def run() -> None:
        with app.app_context():
            worker.run_forever(threading.Event())

    thread = threading.Thread(target=run, name="mail-worker", daemon=True)
    thread.start()
    return thread


def main() -> None:
    """Prepare the instance and start the development server on 127.0.0.1, with the mail
    worker beside it."""
    ensure_secret_key()
    port = int(os.environ.get("PORT", "5000"))
    app = create_app()
    if not app.config.get("SITE_URL"):  # links in mails point at this server
        app.config["SITE_URL"] = f"http://127.0.0.1:{port}"
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        content.seed_content(Path(app.config["SEED_DATA_FILE"]))
        db.session.commit()
    start_worker(app)
    if app.config.get("MAIL_SERVER"):
        mail = f"sent through {app.config['MAIL_SERVER']}:{app.config['MAIL_PORT']}"
    else:
        mail = f"written as .eml files to {app.config['MAIL_FILE_PATH']}/ (no MAIL_SERVER set)"
    print(f"\n  discussion is running: open http://127.0.0.1:{port}/", flush=True)
    print(f"  mail is {mail}\n", flush=True)
    app.run(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
