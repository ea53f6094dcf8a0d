"""Moderation: the queue, decisions and undo, readers' reports, rule settings, the
moderator screens."""
