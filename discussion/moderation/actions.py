"""The moderation state machine: one definition of every action a moderator can take.

Each action knows the states it may start from, the state it leads to, its button
label, the words for what it did and its keyboard key. The decision service, the
views, the queue template and the keyboard script all read this table.
"""

from __future__ import annotations

import enum

from ..models import CommentState

P, A, R, S = (CommentState.PENDING, CommentState.APPROVED, CommentState.REJECTED, CommentState.SPAM)

REJECT_REASONS = {
    "off-topic": "Off-topic",
    "abusive": "Abusive or uncivil",
    "spam": "Spam or advertising",
    "personal": "Personal information",
    "misleading": "Misleading or false",
    "other": "Other",
}
NOTE_LENGTH = 2000  # a moderator's note for the record


class Action(enum.Enum):
    """A moderator's decision on one comment."""

    sources: frozenset[CommentState]
    target: CommentState
    label: str
    past: str  # "that comment cannot be <past>"
    done: str  # the notice after it: "<done>: 3 comments."
    key: str | None  # keyboard shortcut in the queue
    style: str  # button variant: "", "secondary" or "danger"
    needs_reports: bool

    def __new__(
        cls,
        value: str,
        sources: tuple[CommentState, ...],
        target: CommentState,
        label: str,
        past: str,
        done: str,
        key: str | None,
        style: str = "",
        needs_reports: bool = False,
    ) -> Action:
        member = object.__new__(cls)
        member._value_ = value
        member.sources = frozenset(sources)
        member.target = target
        member.label = label
        member.past = past
        member.done = done
        member.key = key
        member.style = style
        member.needs_reports = needs_reports
        return member

    APPROVE = ("approve", (P,), A, "Approve", "approved", "Approved", "a")
    # Approving an approved comment that readers reported: it stays, the reports go.
    KEEP = ("keep", (A,), A, "Keep (dismiss reports)", "kept", "Kept", "a", "", True)
    REJECT = ("reject", (P, A), R, "Reject", "rejected", "Rejected", "r", "secondary")
    SPAM = ("spam", (P, A, R), S, "Spam", "marked as spam", "Marked as spam", "s", "danger")
    RESTORE = (
        "restore",
        (R, S),
        P,
        "Restore",
        "restored",
        "Restored to pending",
        None,
        "secondary",
    )

    def allows(self, state: CommentState, *, reported: bool = False) -> bool:
        """Whether this action can start from a comment in ``state``."""
        return state in self.sources and (reported or not self.needs_reports)

    @property
    def changes_state(self) -> bool:
        return self.target not in self.sources
