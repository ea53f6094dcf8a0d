"""Import figures: ``--comments`` comments (default 100,000) from a generated WordPress
export into a fresh SQLite database, with the peak resident memory of the import.

    flock /tmp/heavy.lock .venv/bin/python bench/import.py
    flock /tmp/heavy.lock .venv/bin/python bench/import.py --comments 300000  # memory flat?

Each run is ``flask --app discussion import wordpress FILE`` in a process of its own,
which reports its peak RSS and its largest worker process's (``getrusage``); in order:

1. baseline: the same command with ``--dry-run`` (the file streamed and parsed, every
   comment converted and sanitized, nothing written);
2. the import;
3. the same import again (everything already there: the idempotency lookups).

The export: ``--posts`` posts, comments spread evenly, a third of them replies, each a
sentence or two: one in four with HTML (emphasis, a link, paragraphs), the others plain
text with a line break and Markdown-like stars; addresses as WordPress writes them.
Target: 100,000 comments in under 60 s.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
FLASK = str(Path(PYTHON).parent / "flask")
WORDS = [
    "budget",
    "council",
    "water",
    "school",
    "vote",
    "policy",
    "election",
    "report",
    "minister",
    "road",
    "hospital",
    "tax",
    "river",
    "village",
    "court",
    "police",
    "market",
    "energy",
    "farm",
    "housing",
    "museum",
    "bridge",
]


def write_export(path: Path, posts: int, comments: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    per_post = comments // posts
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0"'
            ' xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"'
            ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench</title><link>https://old.example.org</link>\n"
            "<wp:wxr_version>1.2</wp:wxr_version>\n"
            "<wp:base_site_url>https://old.example.org</wp:base_site_url>\n"
        )
        comment_id = 0
        for p in range(1, posts + 1):
            title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
            body = "".join(
                f"<p>{' '.join(rng.choice(WORDS) for _ in range(40))}.</p>" for _ in range(5)
            )
            out.write(
                f"<item><title>{title}</title>"
                f"<link>https://old.example.org/2019/01/post-{p}/</link>"
                f"<dc:creator><![CDATA[editor]]></dc:creator>"
                f"<content:encoded><![CDATA[{body}]]></content:encoded>"
                f"<excerpt:encoded><![CDATA[]]></excerpt:encoded>"
                f"<wp:post_id>{p}</wp:post_id>"
                f"<wp:post_date_gmt>2019-01-{1 + p % 28:02d} 10:00:00</wp:post_date_gmt>"
                f"<wp:comment_status>open</wp:comment_status>"
                f"<wp:post_name>post-{p}</wp:post_name><wp:status>publish</wp:status>"
                f"<wp:post_type>post</wp:post_type>"
                f'<category domain="category" nicename="c{p % 20}">'
                f"<![CDATA[Topic {p % 20}]]></category>\n"
            )
            first = comment_id + 1
            for i in range(per_post):
                comment_id += 1
                parent = rng.randint(first, comment_id - 1) if i and rng.random() < 0.33 else 0
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
                if comment_id % 4 == 0:  # one in four with markup
                    text = (
                        f"I think the <em>{rng.choice(WORDS)}</em> plan is {words}.\n\n"
                        f'See <a href="https://example.org/{rng.choice(WORDS)}">this</a>.'
                    )
                else:
                    text = f"The {rng.choice(WORDS)} plan is {words}.\nWhy not *{words[:20]}*?"
                reader = comment_id % 5000
                out.write(
                    f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[Reader {reader}]]></wp:comment_author>"
                    f"<wp:comment_author_email>r{reader}@example.org</wp:comment_author_email>"
                    "<wp:comment_author_url></wp:comment_author_url>"
                    f"<wp:comment_author_IP>198.51.{reader % 250}.{reader % 200}"
                    "</wp:comment_author_IP>"
                    f"<wp:comment_date_gmt>2019-02-01 {comment_id % 24:02d}:00:00"
                    "</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
                    f"<wp:comment_approved>{'1' if comment_id % 10 else '0'}"
                    "</wp:comment_approved><wp:comment_type></wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n"
                )
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")


# Runs the flask command in this interpreter and reports, on stderr, its own peak RSS
# and the largest of its worker processes' (all joined before it exits).
WRAPPER = """
import resource, sys
from flask.cli import main
sys.argv = ["flask", *sys.argv[1:]]
try:
    main()
finally:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"RSS {own} {workers}", file=sys.stderr)
"""


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Seconds, peak RSS (MB) of the command and of its largest worker, last output line."""
    start = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-c", WRAPPER, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    own, workers = (int(x) / 1024 for x in done.stderr.strip().splitlines()[-1].split()[1:])
    return elapsed, own, workers, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000)
    parser.add_argument(
        "--runs",
        default="dry,import,again",
        help="which of the three runs, in order (a 1 GB export: --runs import)",
    )
    options = parser.parse_args()
    runs = set(options.runs.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.xml"
        started = time.perf_counter()
        write_export(export, options.posts, options.comments)
        size = export.stat().st_size
        print(
            f"Export: {options.posts:,} posts, {options.comments:,} comments, "
            f"{size / 1e6:.1f} MB (written in {time.perf_counter() - started:.1f} s)"
        )
        env = {
            **os.environ,
            "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
            "FLASK_SECRET_KEY": secrets.token_hex(32),
        }
        subprocess.run(
            [FLASK, "--app", "discussion", "db", "upgrade"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        command = ["--app", "discussion", "import", "wordpress", str(export)]
        print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
        print("| run | seconds | comments/s | peak RSS, MB | largest worker, MB | summary |")
        print("| --- | --- | --- | --- | --- | --- |")
        for run_name, name, args in (
            ("dry", "dry run (parse, convert, sanitize; baseline)", [*command, "--dry-run"]),
            ("import", "import", command),
            ("again", "again (all already imported)", command),
        ):
            if run_name not in runs:
                continue
            seconds, own, workers, summary = run(args, env)
            print(
                f"| {name} | {seconds:.1f} | {options.comments / seconds:,.0f} | {own:.0f} "
                f"| {workers:.0f} | {summary} |"
            )


if __name__ == "__main__":
    main()
