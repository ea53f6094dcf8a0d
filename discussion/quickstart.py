"""First run on a fresh machine: secret key, schema, seed content, then serve.

``python -m discussion.quickstart`` — safe to run again; it changes only what is missing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_migrate import upgrade

from . import ROOT, create_app
from .extensions import db
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


def main() -> None:
    """Prepare the instance and start the development server on 127.0.0.1."""
    ensure_secret_key()
    app = create_app()
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        content.seed_content(Path(app.config["SEED_DATA_FILE"]))
        db.session.commit()
    port = int(os.environ.get("PORT", "5000"))
    print(f"\n  discussion is running: open http://127.0.0.1:{port}/\n", flush=True)
    app.run(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
