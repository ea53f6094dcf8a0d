"""The CDN-ready check: deploy/nginx.conf in front of the app, against nginx's static rate.

Called by bench/run.py when nginx is installed (apt-get install nginx). Runs nginx on
loopback with the repository's configuration (addresses and paths replaced), then
measures: nginx serving a static file the size of the article page; the anonymous
article page through the proxy; and how long an approval takes to show through it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from processes import ROOT, free_port, start, stop

MAIN = """
{user}
worker_processes 2;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  types {{ text/html html; text/css css; application/javascript js; }}
  include {dir}/site.conf;
}}
"""


def available() -> bool:
    return shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()


def start_nginx(
    workdir: Path, app_port: int, page_size: int, refresh_port: int | None = None
) -> tuple[subprocess.Popen, int]:
    """nginx with deploy/nginx.conf in front of the app, and a static page of a given size;
    the app's refresh address (its PROXY_REFRESH_URL) on ``refresh_port`` if given."""
    directory = workdir / "nginx"
    static = directory / "static"
    static.mkdir(parents=True)
    (directory / "cache").mkdir()
    (static / "page.html").write_bytes(b"<!doctype html><p>" + b"x" * (page_size - 18))
    for path in (directory, static):
        path.chmod(0o755)
    workdir.chmod(0o755)
    (directory / "cache").chmod(0o777)
    port, refresh_port = free_port(), refresh_port or free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/var/cache/nginx/discussion": str(directory / "cache"),
        "listen 80;": f"listen 127.0.0.1:{port};",
        "listen 127.0.0.1:8081;": f"listen 127.0.0.1:{refresh_port};",
        '"~^8081 ': f'"~^{refresh_port} ',
        "/srv/discussion/static/": f"{static}/",
    }.items():
        assert old in site, old
        site = site.replace(old, new)
    (directory / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    (directory / "nginx.conf").write_text(MAIN.format(dir=directory, user=user))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = start(
        [binary, "-c", str(directory / "nginx.conf")], dict(os.environ), port, "/static/page.html"
    )
    return process, port


def approval_delay(
    proxy: str, slug: str, approve: Callable[[], int], timeout: float = 5.0
) -> float:
    """Seconds from a moderator's approval (answered by the app) until the comment shows
    on the article page fetched through the proxy, polled every 10 ms."""
    for _ in range(20):  # the proxy holds the page
        urllib.request.urlopen(f"{proxy}/publications/{slug}", timeout=10).read()
    comment_id = approve()
    done = time.monotonic()
    while time.monotonic() - done < timeout:
        page = urllib.request.urlopen(f"{proxy}/publications/{slug}", timeout=10).read().decode()
        if re.search(rf'id="comment-{comment_id}"', page):
            return time.monotonic() - done
        time.sleep(0.01)
    return float("inf")


__all__ = ["approval_delay", "available", "start_nginx", "stop"]
