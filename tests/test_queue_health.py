"""The queue health page: waiting, decisions per moderator, rules by week, drawn in SVG."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask

from discussion.extensions import db
from discussion.models import CommentState, Decision, Hold, Moderator
from discussion.moderation import health
from tests.helpers import login, make_comment, make_publication

NOW = datetime(2024, 2, 1, 18, 0, tzinfo=UTC)  # comments are made from noon that day


def decide(comment_id: int, moderator: Moderator, minutes_after_noon: int) -> None:
    db.session.add(
        Decision(
            comment_id=comment_id,
            moderator_id=moderator.id,
            from_state=CommentState.PENDING,
            to_state=CommentState.APPROVED,
            created_at=datetime(2024, 2, 1, 12, 0, tzinfo=UTC)
            + timedelta(minutes=minutes_after_noon),
        )
    )


def test_the_figures(app: Flask, moderator: Moderator, other_moderator: Moderator) -> None:
    publication = make_publication()
    waiting = make_comment(publication, state=CommentState.PENDING, minutes=30)
    first = make_comment(publication, minutes=0)
    second = make_comment(publication, minutes=10)
    third = make_comment(publication, minutes=20)
    decide(first.id, moderator, 10)  # 10 minutes
    decide(second.id, moderator, 40)  # 30 minutes
    decide(third.id, other_moderator, 110)  # 90 minutes
    decide(third.id, other_moderator, 111)  # a second decision: not a new wait
    waiting.holds = [Hold(rule="links", detail="3 links", matches=[])]
    first.holds = [Hold(rule="links", detail="3 links", matches=[])]
    db.session.commit()
    figures = health.health(NOW)
    assert figures.pending == 1
    assert figures.oldest_age == timedelta(hours=5, minutes=30)
    assert figures.median_minutes[-1] == 30 and figures.decided[-1] == 3
    assert figures.per_moderator == {"mod": [0] * 13 + [2], "other": [0] * 13 + [2]}
    (week,) = [w for w in figures.rules["Too many links"] if w.held]
    assert (week.held, week.approved, week.approved_share) == (2, 1, 0.5)


def test_the_page_draws_svg_charts_without_script_or_style(
    app: Flask, moderator: Moderator, clock: list[datetime]
) -> None:
    clock[0] = NOW
    publication = make_publication()
    comment = make_comment(publication)
    decide(comment.id, moderator, 45)
    db.session.commit()
    staff = app.test_client()
    login(staff, "mod")
    page = staff.get("/moderation/health").get_data(as_text=True)
    assert '<svg class="chart__svg"' in page and 'role="img"' in page
    assert re.search(r'<rect class="chart__bar chart__bar--0"[^>]*><title>Feb 1: 45 minutes', page)
    assert '<th scope="row">Thursday, February 1, 2024</th><td>45 min</td><td>1</td>' in page
    assert " style=" not in page and "<script>" not in page


def test_only_moderators_see_it(app: Flask, editor: Moderator) -> None:
    assert app.test_client().get("/moderation/health").status_code == 302
    desk = app.test_client()
    login(desk, "ed")
    assert desk.get("/moderation/health").status_code == 403


def test_a_chart_scales_to_a_round_top() -> None:
    chart = health.bar_chart(["a", "b"], [("x", [3, None]), ("y", [4, 2])], "held")
    assert [t.text for t in chart.y_ticks] == ["0", "2", "4", "6", "8"]
    assert len(chart.bars) == 3  # the empty value draws nothing
    first, stacked = chart.bars[0], chart.bars[1]
    assert stacked.y + stacked.height == first.y  # the second series sits on the first
