"""Rendering an outbox row into the mail that is sent, when it is sent.

Text and HTML parts come from ``templates/mail/<kind>.txt`` and ``.html`` (the HTML
autoescaped like the site, so a commenter's name injects no markup; no reader-typed
text goes into a header). Every mail gets a stable ``Message-ID`` (a retry sends the
same one), ``Date``, ``Auto-Submitted: auto-generated`` and the site's name as sender
name; readers' notices carry RFC 8058 one-click unsubscribe. No tracking of any kind.

A row whose reason to exist has gone (the reader stopped mails, the comment was decided
before the moderator's alert went out) raises :class:`Drop` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..comments.rules import RULES
from ..extensions import db
from ..models import (
    Comment,
    CommentState,
    Decision,
    MailAddress,
    MailPreference,
    MailSubscription,
    Moderator,
    OutboxMail,
)
from ..moderation.actions import REJECT_REASONS
from ..web import links
from . import subscriptions
from .outbox import Kind, aware

EXCERPT_LENGTH = 300  # characters of a comment quoted in a mail
DIGEST_LISTED = 50  # pending comments a digest lists (it says how many more wait)


class Drop(Exception):
    """This mail is no longer wanted; the message says why (kept on the row)."""


@dataclass(frozen=True)
class Draft:
    """A rendered mail before it becomes a message."""

    subject: str
    text: str
    html: str
    unsubscribe: str | None = None  # the one-click URL, for readers' notices


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of a comment, on one line of words."""
    words = " ".join(text.split())
    return words if len(words) <= length else words[: length - 1].rstrip() + "…"


def render(mail: OutboxMail) -> Draft:
    """The mail this row stands for now; :class:`Drop` when it is no longer wanted."""
    kind = Kind(mail.kind)
    context: dict[str, Any] = {"site_name": current_app.config["SITE_NAME"], "kind": kind}
    subject, unsubscribe = RENDERERS[kind](mail.payload, context)
    if unsubscribe:
        context["stop_url"] = unsubscribe
    return Draft(
        subject=subject,
        text=_template(f"mail/{kind.value}.txt", context),
        html=_template(f"mail/{kind.value}.html", context),
        unsubscribe=unsubscribe,
    )


def _template(name: str, context: dict[str, Any]) -> str:
    """A mail template with only its own context: no request, no page globals (the
    environment still autoescapes ``.html``, as on the site)."""
    return current_app.jinja_env.get_template(name).render(**context)


def message(mail: OutboxMail, draft: Draft) -> EmailMultiAlternatives:
    """The message to send: one recipient, text and HTML, the headers people trust."""
    config = current_app.config
    domain = links.site_domain()
    sender = parseaddr(config.get("MAIL_DEFAULT_SENDER") or "")[1] or f"noreply@{domain}"
    created = aware(mail.created_at)
    headers = {
        "Message-ID": f"<mail.{mail.id}.{int(created.timestamp())}@{domain}>",
        "Auto-Submitted": "auto-generated",
    }
    if draft.unsubscribe:
        headers["List-Unsubscribe"] = f"<{draft.unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=draft.subject,
        body=draft.text,
        from_email=formataddr((config["SITE_NAME"], sender)),
        to=[mail.recipient],
        headers=headers,
    )
    email.attach_alternative(draft.html, "text/html")
    return email


# --- one renderer per kind: (subject, one-click URL or None), filling the context ------


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _confirm(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, None]:
    address = db.session.get(MailAddress, payload.get("address_id"))
    if address is None:
        raise Drop("The address is gone.")
    if address.confirmed_at is not None and address.stopped_at is None:
        raise Drop("The address was confirmed meanwhile.")
    token = subscriptions.confirm_token(address.id, _secret())
    context["confirm_url"] = links.absolute("mail.confirm", token=token)
    context["days"] = subscriptions.CONFIRM_LINK_DAYS
    return f"Please confirm your address for {context['site_name']}", None


def _stop_url(address_id: int, root_id: int | None) -> str:
    return links.absolute(
        "mail.stop", token=subscriptions.stop_token(address_id, root_id, _secret())
    )


def _outcome(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, str]:
    subscription = db.session.get(MailSubscription, payload.get("subscription_id"))
    if subscription is None or subscription.stopped_at is not None:
        raise Drop("The reader stopped these mails, or the comment is gone.")
    if not subscriptions.active(subscription.address_id):
        raise Drop("The address is not confirmed or stopped every mail.")
    comment = db.session.get(Comment, subscription.comment_id)
    state = CommentState(payload["state"])
    if comment is None or comment.state is not state:
        raise Drop("The comment's state changed before the notice went out.")
    publication = comment.publication
    context.update(
        comment=comment,
        excerpt=excerpt(comment.body_text),
        publication=publication,
        published=state is CommentState.APPROVED,
        reason=REJECT_REASONS.get(payload.get("reason") or _last_reason(comment.id) or ""),
        comment_url=links.absolute(
            "publications.article", slug=publication.slug, anchor=f"comment-{comment.id}"
        ),
        article_url=links.absolute("publications.article", slug=publication.slug),
    )
    subject = (
        "Your comment is published"
        if state is CommentState.APPROVED
        else "Your comment was not published"
    )
    return f"{subject}: {publication.title}", _stop_url(
        subscription.address_id, subscription.root_id
    )


def _last_reason(comment_id: int) -> str | None:
    """The reason category of the comment's latest decision that gave one."""
    return db.session.scalar(
        select(Decision.reason)
        .where(Decision.comment_id == comment_id, Decision.reason.is_not(None))
        .order_by(Decision.id.desc())
        .limit(1)
    )


def _replies(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, str]:
    address_id, root_id = payload.get("address_id"), payload.get("root_id")
    if not subscriptions.active(address_id):
        raise Drop("The address is not confirmed or stopped every mail.")
    wanted = db.session.scalar(
        select(func.count())
        .select_from(MailSubscription)
        .where(
            MailSubscription.address_id == address_id,
            MailSubscription.root_id == root_id,
            MailSubscription.replies,
            MailSubscription.stopped_at.is_(None),
        )
    )
    if not wanted:
        raise Drop("The reader stopped mails about this thread.")
    replies = db.session.scalars(
        select(Comment)
        .where(
            Comment.id.in_(payload.get("reply_ids", [])),
            Comment.state == CommentState.APPROVED,
            ~Comment.hidden,
        )
        .order_by(Comment.id)
    ).all()
    if not replies:
        raise Drop("No reply is still published.")
    publication = replies[0].publication
    context.update(
        publication=publication,
        replies=[
            (
                reply,
                excerpt(reply.body_text),
                links.absolute(
                    "publications.article", slug=publication.slug, anchor=f"comment-{reply.id}"
                ),
            )
            for reply in replies
        ],
    )
    count = len(replies)
    subject = "A new reply" if count == 1 else f"{count} new replies"
    return f"{subject} in your discussion: {publication.title}", _stop_url(address_id, root_id)


def _staff(payload: dict[str, Any], *wants: MailPreference) -> Moderator:
    moderator = db.session.get(Moderator, payload.get("moderator_id"))
    if moderator is None or not moderator.active or not moderator.email:
        raise Drop("The account is gone, deactivated or has no email.")
    if moderator.mail_preference not in wants:
        raise Drop("The moderator changed their mail preference.")
    return moderator


def _queue_url(comment_id: int) -> str:
    """The queue opened at this comment (every state, newest first, starting with it)."""
    return links.absolute(
        "moderation.queue", status="all", after=comment_id + 1, anchor=f"comment-{comment_id}"
    )


def _pending(ids: list[int]) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(ids), Comment.state == CommentState.PENDING)
            .options(selectinload(Comment.holds), selectinload(Comment.publication))
            .order_by(Comment.id)
        )
    )


def _listed(comments: list[Comment]) -> list[dict[str, Any]]:
    return [
        {
            "comment": c,
            "excerpt": excerpt(c.body_text),
            "reasons": [f"{RULES.get(h.rule, h.rule)}: {h.detail}" for h in c.holds],
            "url": _queue_url(c.id),
        }
        for c in comments
    ]


def _settings_url(moderator: Moderator) -> str:
    return links.absolute("accounts.mail_settings", moderator_id=moderator.id)


def _held(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, None]:
    moderator = _staff(payload, MailPreference.EACH)
    comments = _pending([payload.get("comment_id", 0)])
    if not comments:
        raise Drop("The comment was decided (or withdrawn) before the alert went out.")
    context.update(items=_listed(comments), settings_url=_settings_url(moderator))
    return f"A comment waits for moderation: {comments[0].publication.title}", None


def _digest(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, None]:
    moderator = _staff(payload, MailPreference.DIGEST)
    comments = _pending(payload.get("comment_ids", []))
    if not comments:
        raise Drop("Every listed comment was decided before the digest went out.")
    total = max(int(payload.get("total", 0)), len(comments))
    context.update(
        items=_listed(comments),
        more=total - len(comments),
        total=total,
        queue_url=links.absolute("moderation.queue"),
        settings_url=_settings_url(moderator),
    )
    return f"{total} comment{'s' if total != 1 else ''} wait for moderation", None


def _stale(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, None]:
    moderator = _staff(payload, MailPreference.EACH, MailPreference.DIGEST)
    comments = _pending([payload.get("comment_id", 0)])
    if not comments:
        raise Drop("The oldest pending comment was decided before the alert went out.")
    hours = int(payload.get("hours", 0))
    context.update(
        items=_listed(comments),
        hours=hours,
        total=payload.get("total", 1),
        settings_url=_settings_url(moderator),
    )
    return f"The moderation queue has waited more than {hours} hours", None


RENDERERS = {
    Kind.CONFIRM: _confirm,
    Kind.OUTCOME: _outcome,
    Kind.REPLIES: _replies,
    Kind.HELD: _held,
    Kind.DIGEST: _digest,
    Kind.STALE: _stale,
}
