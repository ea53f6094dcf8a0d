"""The spam score: learned from moderators' decisions, shown on the queue, acting on posts."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from discussion.extensions import db
from discussion.models import Comment, CommentState, Moderator, SpamToken
from discussion.moderation import spamscore
from tests.helpers import login, make_comment, make_publication, post_comment, queue_token

P, A, R, S = (CommentState.PENDING, CommentState.APPROVED, CommentState.REJECTED, CommentState.SPAM)
SPAMMY = "Cheap casino chips, free bonus at https://casino.example/win"
FINE = "The ceasefire talks need the regional envoys at the table"


def test_tokens_fold_words_and_name_link_hosts() -> None:
    features = spamscore.tokens("Café CAFÉ, see https://www.Example.org/x and a 1")
    assert features == [
        "host:example.org",
        "has:link",
        "cafe",
        "see",
        "https",
        "www",
        "example",
        "org",
        "and",
    ]


def test_the_score_leans_on_the_words_it_has_seen() -> None:
    counts = {"casino": (9, 0), "free": (6, 1), "ceasefire": (0, 8), "the": (5, 5)}
    spam = spamscore.score_from(["casino", "free", "the", "unseen"], counts, 10, 10)
    assert spam.probability > 0.95 and spam.words == ("casino", "free")
    fine = spamscore.score_from(["ceasefire", "the"], counts, 10, 10)
    assert fine.probability < 0.15 and fine.words == ("ceasefire",)
    assert spamscore.score_from(["casino"], {}, 0, 0).probability == 0.0  # nothing learned


@pytest.fixture
def signed_in(app: Flask, moderator: Moderator) -> FlaskClient:
    staff = app.test_client()
    login(staff, "mod")
    return staff


def decide(staff: FlaskClient, comment: Comment, action: str, **data: str) -> None:
    form = {"csrf_token": queue_token(staff), "next": "/moderation/", **data}
    response = staff.post(f"/moderation/comments/{comment.id}/{action}", data=form)
    assert response.status_code == 303


def learned(token: str) -> tuple[int, int]:
    row = db.session.execute(
        select(SpamToken.spam, SpamToken.ham).where(SpamToken.token == token)
    ).first()
    return tuple(row) if row else (0, 0)


def test_each_decision_teaches_it_once_and_undo_unteaches(
    app: Flask, signed_in: FlaskClient
) -> None:
    publication = make_publication()
    spam, fine, other = (make_comment(publication, state=P, body=b) for b in (SPAMMY, FINE, SPAMMY))
    decide(signed_in, spam, "spam")
    decide(signed_in, fine, "approve")
    decide(signed_in, other, "reject", reason="spam")
    assert learned("casino") == (2, 0) and learned("ceasefire") == (0, 1)
    assert spamscore.decisions_learned() == 3
    decide(signed_in, other, "undo")  # back to pending: it teaches nothing now
    assert learned("casino") == (1, 0) and spamscore.decisions_learned() == 2
    decide(signed_in, spam, "restore")
    decide(signed_in, spam, "approve")  # a change of mind: relabelled, not counted twice
    assert learned("casino") == (0, 1) and spamscore.decisions_learned() == 2


def test_rejecting_for_another_reason_teaches_nothing(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P, body=SPAMMY)
    decide(signed_in, comment, "reject", reason="off-topic")
    assert spamscore.decisions_learned() == 0


def teach(signed_in: FlaskClient, publication, rounds: int) -> None:  # type: ignore[no-untyped-def]
    for n in range(rounds):
        decide(signed_in, make_comment(publication, state=P, body=f"{SPAMMY} {n}"), "spam")
        decide(signed_in, make_comment(publication, state=P, body=f"{FINE} {n}"), "approve")


@pytest.mark.config(MODERATION_PREMODERATION=False, MODERATION_SPAM_MIN_DECISIONS=6)
def test_it_holds_once_it_has_learned_enough(
    app: Flask, client: FlaskClient, signed_in: FlaskClient
) -> None:
    publication = make_publication()
    teach(signed_in, publication, 2)  # 4 decisions: still learning
    post_comment(client, publication.slug, name="Bot", body="Free casino bonus")
    first = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert first.state is A
    page = signed_in.get("/moderation/?status=approved").get_data(as_text=True)
    assert "The spam score is learning from your decisions: 4 of the 6" in page

    teach(signed_in, publication, 1)
    post_comment(client, publication.slug, name="Bot", body="Free casino bonus today")
    held = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert held.state is P
    assert [h.rule for h in held.holds] == ["spam_score"]
    assert held.holds[0].detail.startswith("Spam score 9")
    assert "casino" in held.holds[0].detail and "held from 80%" in held.holds[0].detail
    post_comment(client, publication.slug, name="Ada", body="The envoys at the ceasefire talks")
    assert db.session.scalars(select(Comment).order_by(Comment.id.desc())).first().state is A

    page = signed_in.get("/moderation/").get_data(as_text=True)
    assert "<strong>Spam score</strong>: Spam score 9" in page
    assert "<dt>Spam score</dt><dd>9" in page


@pytest.mark.config(
    MODERATION_PREMODERATION=False, MODERATION_SPAM_MIN_DECISIONS=2, MODERATION_SPAM_SEND_AT=90
)
def test_over_the_spam_threshold_it_goes_to_spam(
    app: Flask, client: FlaskClient, signed_in: FlaskClient
) -> None:
    publication = make_publication()
    teach(signed_in, publication, 3)
    post_comment(client, publication.slug, name="Bot", body="Free casino bonus chips")
    sent = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert sent.state is S and sent.holds[0].rule == "spam_score"


def test_the_rules_page_shows_precision_and_recall(
    app: Flask, client: FlaskClient, admin: Moderator
) -> None:
    staff = app.test_client()
    login(staff, "chief")
    publication = make_publication()
    teach(staff, publication, 3)
    for body in ("Free casino bonus", "Free casino chips", "Ceasefire envoys"):
        post_comment(client, publication.slug, name="Someone", body=body)
    posted = db.session.scalars(select(Comment).order_by(Comment.id.desc()).limit(3)).all()
    decide(staff, posted[0], "spam")  # "Ceasefire envoys": the score said no; a miss
    decide(staff, posted[1], "spam")
    decide(staff, posted[2], "approve")  # "Free casino bonus": flagged, but approved
    page = staff.get("/moderation/rules").get_data(as_text=True)
    assert "<td>9 decisions (acts from 200)</td>" in page
    assert "<td>3</td>\n      <td>80%</td>\n      <td>50%</td>\n      <td>50%</td>" in page
