"""gunicorn's settings for discussion, read by `gunicorn` run from the repository root.

What production runs is what the benchmarks and the tests that serve the app run: they
pass only the address to bind (and, for a benchmark, the number of workers). Each
setting can be overridden on the command line or by its environment variable.
"""

import os

wsgi_app = "discussion:create_app()"
bind = os.environ.get("DISCUSSION_BIND", "127.0.0.1:8000")
# Sync workers: one request each, no thread switching. Measured against gthread under a
# story's mixed load (bench/README.md): readers kept more of their rate with sync.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
# A request that takes 30 s is stuck: the master replaces that worker.
timeout = 30
# A deploy (HUP or SIGTERM) lets requests in flight finish within this time.
graceful_timeout = 20
keepalive = 2
# Bounded request lines and headers (nginx in front bounds bodies and slow clients).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Workers' heartbeat files in memory, not on a disk that may stall or fill up.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn 25+ opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl):
# two servers on one machine would take it from each other. Nothing here uses it.
control_socket_disable = True
