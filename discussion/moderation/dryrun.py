"""A rule change tried on the last days' comments before it is saved: which comments the
new rules would have held or refused that the current ones did not (and the reverse), and
how many of those moderators approved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..comments import rules
from ..extensions import db
from ..models import Comment, CommentState, Decision

LIMIT = 5000  # newest comments a dry run looks at (it runs while the admin waits)
EXAMPLES = 5  # comments shown for each kind of change


@dataclass(frozen=True)
class Example:
    comment: Comment
    before: str  # the state the current rules give it
    after: str  # the state the new rules give it
    why: tuple[str, ...]  # the new rules' holds, as labels with details


@dataclass
class DryRun:
    """What the proposed rules would have done, against the current ones."""

    considered: int
    capped: bool
    newly_held: list[Example] = field(default_factory=list)
    no_longer_held: list[Example] = field(default_factory=list)
    newly_refused: list[Example] = field(default_factory=list)
    no_longer_refused: list[Example] = field(default_factory=list)
    approved_by_moderators: int = 0  # of the newly held or refused

    @property
    def changed(self) -> int:
        return sum(
            len(x)
            for x in (
                self.newly_held,
                self.no_longer_held,
                self.newly_refused,
                self.no_longer_refused,
            )
        )


def _facts(comment: Comment, known_authors: set[str]) -> rules.Submission:
    """What the rules saw when the comment was posted, as far as it is stored."""
    held = {h.rule for h in comment.holds}
    publication = comment.publication
    return rules.Submission(
        body=comment.body_text,
        honeypot="honeypot" in held,
        published=publication.published,
        premoderation=publication.premoderation,
        author_has_approved=bool(comment.email) and comment.email in known_authors,
        duplicate="duplicate" in held,
        today=comment.created_at.date(),
    )


def _kind(state: str) -> str:
    return {"pending": "held", "rejected": "refused", "spam": "refused"}.get(state, "published")


def dry_run(current: rules.RuleSettings, proposed: rules.RuleSettings, since: datetime) -> DryRun:
    """Evaluate the newest comments since ``since`` (at most ``LIMIT``) under both rule
    settings; the same stored facts feed both, so only the change makes a difference."""
    comments = list(
        db.session.scalars(
            select(Comment)
            .where(Comment.created_at >= since)
            .order_by(Comment.id.desc())
            .limit(LIMIT + 1)
            .options(selectinload(Comment.holds), selectinload(Comment.publication))
        )
    )
    result = DryRun(considered=min(len(comments), LIMIT), capped=len(comments) > LIMIT)
    comments = comments[:LIMIT]
    emails = {c.email for c in comments if c.email}
    known = (
        set(
            db.session.scalars(
                select(Comment.email)
                .where(Comment.email.in_(emails), Comment.state == CommentState.APPROVED)
                .distinct()
            )
        )
        if emails
        else set()
    )
    touched: list[Example] = []
    for comment in comments:
        facts = _facts(comment, known)
        before = rules.evaluate(facts, current).state
        verdict = rules.evaluate(facts, proposed)
        old, new = _kind(before), _kind(verdict.state)
        if old == new:
            continue
        example = Example(
            comment,
            before,
            verdict.state,
            tuple(f"{rules.RULES.get(h.rule, h.rule)}: {h.detail}" for h in verdict.holds),
        )
        if new == "held":
            result.newly_held.append(example)
        if old == "held":
            result.no_longer_held.append(example)
        if new == "refused":
            result.newly_refused.append(example)
        if old == "refused":
            result.no_longer_refused.append(example)
        if new != "published":
            touched.append(example)
    ids = [e.comment.id for e in touched]
    if ids:
        approved = set(
            db.session.scalars(
                select(Decision.comment_id).where(
                    Decision.comment_id.in_(ids),
                    Decision.moderator_id.is_not(None),
                    Decision.to_state == CommentState.APPROVED,
                )
            )
        )
        result.approved_by_moderators = sum(
            1
            for e in touched
            if e.comment.id in approved and e.comment.state is CommentState.APPROVED
        )
    return result
