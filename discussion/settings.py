"""Moderation rule settings: configured defaults, overridden by an admin's stored choices."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import current_app
from sqlalchemy import select

from . import database, pagecache
from .extensions import cache, db
from .models import Setting
from .rules import RuleSettings

# Setting name -> config key of its default.
DEFAULTS = {
    "premoderation": "MODERATION_PREMODERATION",
    "auto_approve_known_authors": "MODERATION_AUTO_APPROVE_KNOWN_AUTHORS",
    "max_links": "MODERATION_MAX_LINKS",
    "trusted_domains": "MODERATION_TRUSTED_DOMAINS",
    "suspect_words": "MODERATION_SUSPECT_WORDS",
    "banned_words": "MODERATION_BANNED_WORDS",
    "close_after_days": "MODERATION_CLOSE_AFTER_DAYS",
    "moderate_after_days": "MODERATION_MODERATE_AFTER_DAYS",
    "reports_to_hide": "MODERATION_REPORTS_TO_HIDE",
}


_CACHE_KEY = "moderation-settings"


def current() -> dict[str, Any]:
    """Every setting's value now: the stored override, else the configured default.

    Cached for SETTINGS_CACHE_SECONDS; this process sees its own changes at once.
    """
    stored = cache.get(_CACHE_KEY)
    if stored is None:
        with database.reading() as connection:  # a POST reading them takes no write lock
            rows = connection.execute(
                select(Setting.key, Setting.value).where(Setting.key.in_(DEFAULTS))
            )
            stored = {key: value for key, value in rows}
        cache.set(_CACHE_KEY, stored, timeout=current_app.config["SETTINGS_CACHE_SECONDS"])
    values = {name: current_app.config[key] for name, key in DEFAULTS.items()}
    values.update(stored)
    return values


_RULE_FIELDS = frozenset(f.name for f in dataclasses.fields(RuleSettings))


def rule_settings() -> RuleSettings:
    """The settings the rules engine takes; the site's own domain (SITE_DOMAIN, from
    configuration, never from the request's Host header) is always trusted."""
    values = current()
    own = current_app.config.get("SITE_DOMAIN")
    trusted = [*values["trusted_domains"], *([own] if own else [])]
    kwargs = {k: v for k, v in values.items() if k in _RULE_FIELDS}
    kwargs.update(
        trusted_domains=tuple(trusted),
        suspect_words=tuple(values["suspect_words"]),
        banned_words=tuple(values["banned_words"]),
    )
    return RuleSettings(**kwargs)


def save(changes: dict[str, Any]) -> None:
    """Store an admin's choices (only known settings)."""
    pagecache.changed()  # rules decide whether article pages show the form
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise KeyError(key)
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        elif row.value != value:
            row.value = value


def forget() -> None:
    """Drop this process's cached settings; call after committing :func:`save`."""
    cache.delete(_CACHE_KEY)
