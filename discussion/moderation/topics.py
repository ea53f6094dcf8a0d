"""Rules by topic: stricter moderation an admin attaches to a topic (hold every comment on
its publications, or suspect words of its own); the hold names the topic."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from ..comments import rules
from ..extensions import db
from ..models import Moderator, Topic, TopicRule, publication_topics
from .settings import NotAllowed

_RULES_OF = (
    select(Topic.name, TopicRule.hold_all, TopicRule.suspect_words)
    .join(TopicRule, TopicRule.topic_id == Topic.id)
    .join(publication_topics, publication_topics.c.topic_id == Topic.id)
    .where(publication_topics.c.publication_id == bindparam("publication_id"))
    .order_by(Topic.name)
)


def holds_for(connection: Connection, publication_id: int, body: str) -> tuple[rules.Hold, ...]:
    """The topic rules of this publication's topics that hold ``body`` (one indexed query),
    as one hold naming each topic and why."""
    found = connection.execute(_RULES_OF, {"publication_id": publication_id}).all()
    reasons: list[str] = []
    matched: list[str] = []
    for name, hold_all, words in found:
        if hold_all:
            reasons.append(f"{name}: every comment is held")
            continue
        spans = rules.find_words(body, words or ())
        if spans:
            hits = list(dict.fromkeys(body[a:b] for a, b in spans))
            matched += hits
            reasons.append(f"{name}: suspect word{'s' if len(hits) > 1 else ''} {', '.join(hits)}")
    if not reasons:
        return ()
    return (rules.Hold("topic", "; ".join(reasons), tuple(matched)),)


def all_rules() -> list[tuple[Topic, TopicRule | None]]:
    """Every topic with its rule, if it has one, by name."""
    topics = db.session.scalars(select(Topic).order_by(Topic.name)).all()
    found = {r.topic_id: r for r in db.session.scalars(select(TopicRule))}
    return [(t, found.get(t.id)) for t in topics]


def save(topic: Topic, actor: Moderator, *, hold_all: bool, suspect_words: list[str]) -> None:
    """Set (or, with nothing to add, remove) a topic's stricter rules."""
    if not actor.is_admin:
        raise NotAllowed("Only admins change the moderation rules.")
    rule = db.session.get(TopicRule, topic.id)
    if not hold_all and not suspect_words:
        if rule is not None:
            db.session.delete(rule)
        return
    if rule is None:
        rule = TopicRule(topic_id=topic.id)
        db.session.add(rule)
    rule.hold_all, rule.suspect_words = hold_all, suspect_words
