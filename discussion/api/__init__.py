"""The JSON API under ``/api/v1``: publications, threads, counts, posting comments, the
poster's status, and moderation for newsroom tools (per-account tokens)."""
