"""Fixtures of the fault suite (tests/faults/support.py): services of each test's own."""

from .support import postgres, redis_server, serve, small_disk

__all__ = ["postgres", "redis_server", "serve", "small_disk"]
