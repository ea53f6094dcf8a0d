"""Queue health: is moderation keeping up? The oldest pending comment, the time from post
to decision, decisions per moderator per day, and each rule's holds and later-approved
share by week; with the bar charts that draw them (plain SVG the server writes)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..comments import rules
from ..extensions import db
from ..models import Comment, CommentState, Decision, Hold, Moderator
from .queue import pending_count

DAYS = 14  # days of the daily charts
WEEKS = 8  # weeks of the rules chart


@dataclass(frozen=True)
class RuleWeek:
    week: date  # its Monday
    held: int
    approved: int

    @property
    def approved_share(self) -> float | None:
        return self.approved / self.held if self.held else None


@dataclass
class Health:
    now: datetime
    pending: int
    oldest_pending: datetime | None
    days: list[date]
    median_minutes: list[float | None]  # per day: post to first moderator decision
    decided: list[int]  # per day: comments whose first moderator decision fell that day
    moderators: list[str]
    per_moderator: dict[str, list[int]]  # name -> decisions per day
    weeks: list[date]
    rules: dict[str, list[RuleWeek]]  # rule label -> per week

    @property
    def oldest_age(self) -> timedelta | None:
        return self.now - self.oldest_pending if self.oldest_pending else None


def health(now: datetime) -> Health:
    """The figures, from three queries over the last ``DAYS`` days and ``WEEKS`` weeks."""
    today = now.date()
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=now.tzinfo)
    oldest = db.session.scalar(
        select(func.min(Comment.created_at)).where(Comment.state == CommentState.PENDING)
    )

    rows = db.session.execute(
        select(Decision.comment_id, Decision.created_at, Moderator.username, Comment.created_at)
        .join(Moderator, Moderator.id == Decision.moderator_id)
        .join(Comment, Comment.id == Decision.comment_id)
        .where(Decision.created_at >= since)
        .order_by(Decision.id)
    ).all()
    waits: dict[date, list[float]] = defaultdict(list)
    counts: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    first_seen: set[int] = set()
    for comment_id, decided_at, username, posted_at in rows:
        counts[username][decided_at.date()] += 1
        if comment_id not in first_seen:
            first_seen.add(comment_id)
            waits[decided_at.date()].append((decided_at - posted_at).total_seconds() / 60)
    moderators = sorted(counts)

    monday = today - timedelta(days=today.weekday())
    weeks = [monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    week_start = datetime.combine(weeks[0], datetime.min.time(), tzinfo=now.tzinfo)
    held_rows = db.session.execute(
        select(Hold.rule, Comment.created_at, Comment.state)
        .join(Comment, Comment.id == Hold.comment_id)
        .where(Comment.created_at >= week_start)
    ).all()
    tally: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for rule, posted_at, state in held_rows:
        day = posted_at.date()
        cell = tally[rule][day - timedelta(days=day.weekday())]
        cell[0] += 1
        cell[1] += state is CommentState.APPROVED
    by_rule = {
        label: [RuleWeek(w, *tally[rule][w]) for w in weeks]
        for rule, label in rules.RULES.items()
        if rule in tally
    }
    return Health(
        now=now,
        pending=pending_count(),
        oldest_pending=oldest,
        days=days,
        median_minutes=[statistics.median(waits[d]) if waits[d] else None for d in days],
        decided=[len(waits[d]) for d in days],
        moderators=moderators,
        per_moderator={m: [counts[m][d] for d in days] for m in moderators},
        weeks=weeks,
        rules=by_rule,
    )


# --- charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str  # what a pointer or a screen reader gets for the bar


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    """A bar chart (stacked when there are several series), in SVG user units."""

    width: int
    height: int
    left: int
    bottom: int
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    series: list[str]


WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 48, 28, 10


def bar_chart(labels: list[str], series: list[tuple[str, list[float | None]]], unit: str) -> Chart:
    """Bars for each label, one segment per series stacked upwards; empty values draw
    nothing. The scale is rounded up to a whole number of steps."""
    totals = [sum(values[i] or 0 for _, values in series) for i in range(len(labels))]
    top = _nice(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(labels), 1)
    bars: list[Bar] = []
    for i, label in enumerate(labels):
        base = 0.0
        for s, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            height = plot_h * value / top
            y = TOP + plot_h - plot_h * (base + value) / top
            text = f"{label}: {_number(value)} {unit}" + (f" ({name})" if len(series) > 1 else "")
            bars.append(Bar(LEFT + i * slot + slot * 0.15, y, slot * 0.7, height, s, text))
            base += value
    every = max(1, len(labels) // 7)
    x_ticks = [
        Tick(LEFT + i * slot + slot / 2, label) for i, label in enumerate(labels) if i % every == 0
    ]
    y_ticks = [Tick(TOP + plot_h - plot_h * k / 4, _number(top * k / 4)) for k in range(5)]
    return Chart(WIDTH, HEIGHT, LEFT, BOTTOM, bars, x_ticks, y_ticks, [n for n, _ in series])


def _nice(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 4 < value:
        step *= 2 if str(int(step))[0] in "15" else 2.5
    return step * 4


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
