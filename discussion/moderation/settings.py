"""Moderation rule settings (configured defaults, overridden by an admin's stored
choices), each publication's switches, and how often each rule's holds were approved."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select

from ..comments import rules
from ..comments.rules import RuleSettings
from ..extensions import cache, db
from ..models import Comment, CommentState, Hold, Moderator, Publication, Setting
from ..publications.catalog import touch
from ..web import database, pagecache
from .spamscore import SpamSettings

# Setting name -> config key of its default.
DEFAULTS = {
    "premoderation": "MODERATION_PREMODERATION",
    "auto_approve_known_authors": "MODERATION_AUTO_APPROVE_KNOWN_AUTHORS",
    "known_authors_confirmed_only": "MODERATION_KNOWN_AUTHORS_CONFIRMED_ONLY",
    "max_links": "MODERATION_MAX_LINKS",
    "trusted_domains": "MODERATION_TRUSTED_DOMAINS",
    "suspect_words": "MODERATION_SUSPECT_WORDS",
    "banned_words": "MODERATION_BANNED_WORDS",
    "close_after_days": "MODERATION_CLOSE_AFTER_DAYS",
    "moderate_after_days": "MODERATION_MODERATE_AFTER_DAYS",
    "reports_to_hide": "MODERATION_REPORTS_TO_HIDE",
    "spam_hold_at": "MODERATION_SPAM_HOLD_AT",
    "spam_send_at": "MODERATION_SPAM_SEND_AT",
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


def rule_settings(values: dict[str, Any] | None = None) -> RuleSettings:
    """The settings the rules engine takes (now, or from ``values`` an admin proposes);
    the site's own domain (SITE_DOMAIN, from configuration, never from the request's Host
    header) is always trusted."""
    values = current() if values is None else {**current(), **values}
    own = current_app.config.get("SITE_DOMAIN")
    trusted = [*values["trusted_domains"], *([own] if own else [])]
    kwargs = {k: v for k, v in values.items() if k in _RULE_FIELDS}
    kwargs.update(
        trusted_domains=tuple(trusted),
        suspect_words=tuple(values["suspect_words"]),
        banned_words=tuple(values["banned_words"]),
    )
    return RuleSettings(**kwargs)


def spam_settings() -> SpamSettings:
    """The spam score's thresholds and the decisions it needs before it acts."""
    values = current()
    return SpamSettings(
        hold_at=values["spam_hold_at"],
        send_at=values["spam_send_at"],
        min_decisions=current_app.config["MODERATION_SPAM_MIN_DECISIONS"],
    )


class NotAllowed(Exception):
    """The acting person may not change this."""


def save(changes: dict[str, Any], actor: Moderator) -> None:
    """Store an admin's choices (only known settings); call :func:`forget` after the commit."""
    if not actor.is_admin:
        raise NotAllowed("Only admins change the moderation rules.")
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


def switch_publication(
    publication: Publication, actor: Moderator, *, comments_open: bool, premoderation: bool | None
) -> None:
    """Open or close a publication's comments and set its pre-moderation (None: the site's
    rule applies)."""
    if not actor.is_admin:
        raise NotAllowed("Only admins switch a publication's comments.")
    publication.comments_open = comments_open
    publication.premoderation = premoderation
    touch([publication.id])


@dataclass(frozen=True)
class RuleFigures:
    """How often a rule held comments, and how often moderators then approved them."""

    rule: str
    label: str
    held: int
    approved: int
    rejected: int

    @property
    def approved_share(self) -> float:
        return self.approved / self.held if self.held else 0.0


def rule_figures() -> list[RuleFigures]:
    """Per rule: comments it held and what moderators decided, in one query."""
    rows = db.session.execute(
        select(
            Hold.rule,
            func.count(),
            func.sum(case((Comment.state == CommentState.APPROVED, 1), else_=0)),
            func.sum(
                case((Comment.state.in_([CommentState.REJECTED, CommentState.SPAM]), 1), else_=0)
            ),
        )
        .join(Comment, Comment.id == Hold.comment_id)
        .group_by(Hold.rule)
    )
    found = {rule: (held, int(ok or 0), int(no or 0)) for rule, held, ok, no in rows}
    return [
        RuleFigures(rule, label, *found.get(rule, (0, 0, 0))) for rule, label in rules.RULES.items()
    ]
