"""The moderation queue and decisions: tabs, filters, keyset pages, actions, bulk, undo, races."""

from __future__ import annotations

import re
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db
from discussion.models import Comment, CommentState, Decision, Hold, Moderator
from discussion.moderation import decisions
from tests.helpers import login, make_comment, make_publication, queue_token

P, A, R, S = (CommentState.PENDING, CommentState.APPROVED, CommentState.REJECTED, CommentState.SPAM)


def state_of(comment_id: int) -> CommentState:
    return db.session.scalar(db.select(Comment.state).where(Comment.id == comment_id))


def ids_on(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="queue-item" id="comment-(\d+)"', page)]


@pytest.fixture
def signed_in(client: FlaskClient, moderator: Moderator) -> FlaskClient:
    login(client, "mod")
    return client


def act(client: FlaskClient, comment_id: int, action: str, **data: str):
    data = {"csrf_token": queue_token(client), "next": "/moderation/?status=pending", **data}
    return client.post(f"/moderation/comments/{comment_id}/{action}", data=data)


def test_the_pending_queue_explains_each_comment(app: Flask, signed_in: FlaskClient) -> None:
    publication = make_publication(title="Talks resume")
    parent = make_comment(publication, name="Root", body="The parent comment text")
    make_comment(publication, state=A, email="ada@example.org", minutes=1)
    make_comment(publication, state=R, email="ada@example.org", minutes=2)
    held = make_comment(
        publication,
        state=P,
        parent=parent,
        name="Ada",
        minutes=3,
        email="ada@example.org",
        body="Buy <b>casino</b> chips at http://x.test",
    )
    held.holds = [
        Hold(rule="suspect_words", detail="Matched: casino", matches=["casino"]),
        Hold(rule="premoderation", detail="Pre-moderation is on for the site.", matches=[]),
    ]
    db.session.commit()
    page = signed_in.get("/moderation/").get_data(as_text=True)
    assert ids_on(page) == [held.id]  # pending is the default tab
    assert "Talks resume" in page and "ada@example.org" in page
    assert "Reply to</dt><dd>Root: “The parent comment text”" in page
    assert "1 approved, 1 rejected" in page  # the author's history
    assert "<strong>Suspect word</strong>: Matched: casino" in page
    assert "<strong>Pre-moderation</strong>" in page
    assert "Buy &lt;b&gt;<mark>casino</mark>&lt;/b&gt; chips" in page  # raw text, escaped, marked
    assert '<div class="comment-body"><p>Buy &lt;b&gt;casino&lt;/b&gt; chips' in page  # rendered
    assert re.search(r'Pending <span class="count">1</span>', page)
    assert re.search(r'Approved <span class="count">2</span>', page)  # root + Ada's approved
    assert 'Moderation <span class="count">1<span class="visually-hidden"> pending</span>' in page


@pytest.mark.parametrize(
    ("status", "expected"),
    [("pending", [P]), ("approved", [A]), ("rejected", [R]), ("spam", [S]), ("all", [P, A, R, S])],
)
def test_each_tab_lists_its_state(
    app: Flask, signed_in: FlaskClient, status: str, expected: list
) -> None:
    publication = make_publication()
    made = {
        state: make_comment(publication, state=state, minutes=i)
        for i, state in enumerate([P, A, R, S])
    }
    page = signed_in.get(f"/moderation/?status={status}").get_data(as_text=True)
    assert sorted(ids_on(page)) == sorted(made[s].id for s in expected)


def test_unknown_tabs_and_cursors_are_404(app: Flask, signed_in: FlaskClient) -> None:
    for query in ["status=nope", "after=abc", "publication=x"]:
        assert signed_in.get(f"/moderation/?{query}").status_code == 404


def test_filter_by_publication_search_and_order(app: Flask, signed_in: FlaskClient) -> None:
    one, two = make_publication(), make_publication()
    a = make_comment(one, state=P, name="Alpha", body="about sanctions", minutes=1)
    b = make_comment(two, state=P, name="Beta", body="about 100% talks_", minutes=2)
    c = make_comment(one, state=P, name="Gamma", email="g@example.org", minutes=3)
    get = lambda q: ids_on(signed_in.get(f"/moderation/?{q}").get_data(as_text=True))  # noqa: E731
    assert get("") == [c.id, b.id, a.id]
    assert get("order=oldest") == [a.id, b.id, c.id]
    assert get(f"publication={one.id}") == [c.id, a.id]
    assert get("q=sanctions") == [a.id]
    assert get("q=beta") == [b.id]  # name, any case
    assert get("q=g%40example") == [c.id]  # email
    assert get("q=100%25") == [b.id]  # % is literal
    assert get("q=t_lks") == []  # _ is literal too, not "any character"
    counts = signed_in.get(f"/moderation/?publication={one.id}").get_data(as_text=True)
    assert re.search(r'Pending <span class="count">2</span>', counts)


def test_keyset_pages_have_exact_boundaries_and_stay_stable(
    app: Flask, signed_in: FlaskClient, other_moderator: Moderator
) -> None:
    app.config["MODERATION_QUEUE_PAGE_SIZE"] = 3
    publication = make_publication()
    made = [make_comment(publication, state=P, minutes=i) for i in range(6)]
    first = signed_in.get("/moderation/").get_data(as_text=True)
    assert ids_on(first) == [c.id for c in made[5:2:-1]]
    link = re.search(r'rel="next" href="([^"]+)"', first)
    assert link
    # Another moderator approves a comment on page one before this one moves on.
    decisions.act(made[4].id, "approve", other_moderator)
    db.session.commit()
    second = signed_in.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert ids_on(second) == [c.id for c in made[2::-1]]  # nothing skipped, nothing repeated
    assert 'rel="next"' not in second  # exactly a page left: no empty third page
    assert "First page" in second


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (P, "approve", A),
        (P, "reject", R),
        (P, "spam", S),
        (A, "reject", R),
        (A, "spam", S),
        (R, "spam", S),
        (R, "restore", P),
        (S, "restore", P),
    ],
)
def test_actions_move_comments_and_record_the_decision(
    app: Flask, signed_in: FlaskClient, moderator: Moderator, start, action, end
) -> None:
    comment = make_comment(make_publication(), state=start)
    response = act(signed_in, comment.id, action)
    assert response.status_code == 303
    assert response.headers["Location"] == "/moderation/?status=pending"  # back to the queue
    assert state_of(comment.id) is end
    [decision] = db.session.scalars(db.select(Decision)).all()
    assert (decision.moderator_id, decision.from_state, decision.to_state) == (
        moderator.id,
        start,
        end,
    )


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (A, "approve"),
        (R, "approve"),
        (S, "approve"),
        (R, "reject"),
        (S, "reject"),
        (S, "spam"),
        (P, "restore"),
        (A, "restore"),
    ],
)
def test_impossible_actions_change_nothing(
    app: Flask, signed_in: FlaskClient, start, action
) -> None:
    comment = make_comment(make_publication(), state=start)
    response = act(signed_in, comment.id, action)
    assert response.status_code == 303
    assert state_of(comment.id) is start
    assert db.session.scalars(db.select(Decision)).all() == []
    page = signed_in.get("/moderation/").get_data(as_text=True)
    assert 'class="notice notice--error"' in page


def test_reject_keeps_its_reason_and_note_and_shows_the_history(
    app: Flask, signed_in: FlaskClient
) -> None:
    comment = make_comment(make_publication(), state=P)
    act(signed_in, comment.id, "reject", reason="abusive", note="Insults another reader")
    decision = db.session.scalar(db.select(Decision))
    assert (decision.reason, decision.note) == ("abusive", "Insults another reader")
    page = signed_in.get("/moderation/?status=rejected").get_data(as_text=True)
    assert "Decision history (1)" in page
    assert "mod — pending → rejected (Abusive or uncivil): Insults another reader" in page


def test_an_unknown_reason_is_refused(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P)
    act(signed_in, comment.id, "reject", reason="<script>")
    assert state_of(comment.id) is P


def test_actions_need_a_csrf_token(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P)
    response = signed_in.post(f"/moderation/comments/{comment.id}/approve", data={})
    assert response.status_code == 303
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was changed: the page had expired. Please try again." in page
    assert state_of(comment.id) is P
    assert ids_on(page) == [comment.id]  # still waiting in the queue


def test_actions_redirect_only_within_moderation(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P)
    response = act(signed_in, comment.id, "approve", next="https://evil.example/")
    assert response.headers["Location"] == "/moderation/"


def test_anonymous_and_unknown_comment_actions(app: Flask, client: FlaskClient, moderator) -> None:
    comment = make_comment(make_publication(), state=P)
    response = client.post(f"/moderation/comments/{comment.id}/approve")
    assert (response.status_code, response.headers["Location"]) == (303, "/moderation/")
    assert client.get("/moderation/").headers["Location"].startswith("/auth/login?next=")
    assert state_of(comment.id) is P
    login(client, "mod")
    assert act(client, 999999, "approve").status_code == 303
    assert client.post(f"/moderation/comments/{comment.id}/explode").status_code == 404


def test_an_approved_comment_appears_to_readers(app: Flask, signed_in: FlaskClient) -> None:
    publication = make_publication()
    comment = make_comment(publication, state=P, body="Worth reading")
    reader = app.test_client()
    assert f'id="comment-{comment.id}"' not in reader.get(
        f"/publications/{publication.slug}"
    ).get_data(as_text=True)
    act(signed_in, comment.id, "approve")
    assert f'id="comment-{comment.id}"' in reader.get(f"/publications/{publication.slug}").get_data(
        as_text=True
    )


def test_undo_reverses_the_last_decision_and_is_recorded(
    app: Flask, signed_in: FlaskClient
) -> None:
    comment = make_comment(make_publication(), state=P)
    act(signed_in, comment.id, "spam")
    response = signed_in.post(
        f"/moderation/comments/{comment.id}/undo",
        data={"csrf_token": queue_token(signed_in), "next": "/moderation/"},
    )
    assert response.status_code == 303
    assert state_of(comment.id) is P
    made = db.session.scalars(db.select(Decision).order_by(Decision.id)).all()
    assert [(d.from_state, d.to_state) for d in made] == [(P, S), (S, P)]
    assert made[1].undoes_id == made[0].id
    # Undo again reverses the undo (approve -> ... is the moderator's next call).
    page = signed_in.get("/moderation/").get_data(as_text=True)
    assert "Undo last decision" in page


def test_undo_refuses_when_the_comment_changed_since(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P)
    act(signed_in, comment.id, "approve")
    db.session.execute(db.update(Comment).where(Comment.id == comment.id).values(state=R))
    db.session.commit()
    signed_in.post(
        f"/moderation/comments/{comment.id}/undo", data={"csrf_token": queue_token(signed_in)}
    )
    assert state_of(comment.id) is R


def test_bulk_actions_on_selected_and_on_the_whole_page(app: Flask, signed_in: FlaskClient) -> None:
    publication = make_publication()
    pending = [make_comment(publication, state=P, minutes=i) for i in range(4)]
    already = make_comment(publication, state=R, minutes=9)
    token = queue_token(signed_in)
    response = signed_in.post(
        "/moderation/bulk",
        data={
            "csrf_token": token,
            "action": "reject",
            "reason": "off-topic",
            "ids": [str(pending[0].id), str(pending[1].id), str(already.id)],
            "next": "/moderation/",
        },
    )
    assert response.status_code == 303
    assert [state_of(c.id) for c in pending] == [R, R, P, P]
    page = signed_in.get("/moderation/").get_data(as_text=True)
    assert "Rejected: 2 comments. 1 skipped" in page
    reasons = db.session.scalars(db.select(Decision.reason)).all()
    assert reasons == ["off-topic", "off-topic"]
    signed_in.post(
        "/moderation/bulk",
        data={
            "csrf_token": token,
            "action": "approve",
            "scope": "page",
            "page_ids": [str(pending[2].id), str(pending[3].id)],
            "ids": [],
        },
    )
    assert [state_of(c.id) for c in pending] == [R, R, A, A]


@pytest.mark.parametrize(
    ("data", "notice"),
    [
        ({"action": "explode", "ids": ["{id}"]}, "Choose an action for the selected comments."),
        ({"action": "keep", "ids": ["{id}"]}, "Choose an action for the selected comments."),
        ({"action": "approve"}, "Select at least one comment first."),
        ({"action": "approve", "ids": ["x", "-1"]}, "Select at least one comment first."),
        (
            {"action": "approve", "ids": ["{id}"], "csrf_token": "forged"},
            "Nothing was changed: the page had expired.",
        ),
    ],
)
def test_bulk_refuses_without_a_choice_and_says_why(
    app: Flask, signed_in: FlaskClient, data: dict, notice: str
) -> None:
    comment = make_comment(make_publication(), state=P)
    data = {k: [i.format(id=comment.id) for i in v] if k == "ids" else v for k, v in data.items()}
    response = signed_in.post(
        "/moderation/bulk", data={"csrf_token": queue_token(signed_in), **data}
    )
    assert response.status_code == 303
    assert notice in signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert state_of(comment.id) is P
    assert db.session.scalar(db.select(db.func.count()).select_from(Decision)) == 0


def test_two_moderators_approving_at_once_apply_it_once(
    app: Flask, moderator: Moderator, other_moderator: Moderator
) -> None:
    comment_id = make_comment(make_publication(), state=P).id
    moderator_ids = (moderator.id, other_moderator.id)
    db.session.commit()  # the test's own transaction must not hold the database
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(moderator_id: int) -> None:
        with app.app_context():
            barrier.wait()  # both start together; neither holds the database while waiting
            try:
                decisions.act(comment_id, "approve", db.session.get(Moderator, moderator_id))
                db.session.commit()
                outcomes.append("done")
            except decisions.Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(m,)) for m in moderator_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "done"]
    db.session.expire_all()
    assert state_of(comment_id) is A
    assert len(db.session.scalars(db.select(Decision)).all()) == 1


def test_queue_queries_do_not_grow_with_the_page(
    app: Flask, signed_in: FlaskClient, count_queries
) -> None:
    def queries() -> int:
        signed_in.get("/moderation/")  # warm caches
        count_queries.count = 0
        assert signed_in.get("/moderation/").status_code == 200
        return count_queries.count

    publication = make_publication()
    make_comment(publication, state=P, email="a@example.org")
    few = queries()
    for i in range(20):
        comment = make_comment(
            make_publication(), state=P, email=f"r{i}@example.org", parent=None, minutes=i
        )
        comment.holds = [Hold(rule="links", detail="3 links", matches=[])]
    db.session.commit()
    assert queries() == few


def test_a_decision_on_a_comment_that_changed_since_is_refused(
    app: Flask, signed_in: FlaskClient
) -> None:
    comment = make_comment(make_publication(), state=P)
    db.session.execute(db.update(Comment).where(Comment.id == comment.id).values(state=A))
    db.session.commit()  # another moderator approved it meanwhile
    act(signed_in, comment.id, "reject", seen="pending")
    assert state_of(comment.id) is A
    assert "someone decided" in signed_in.get("/moderation/").get_data(as_text=True)


def test_undo_after_keeping_a_reported_comment_is_refused(
    app: Flask, signed_in: FlaskClient
) -> None:
    comment = make_comment(make_publication(), state=P)
    act(signed_in, comment.id, "approve")
    db.session.execute(db.update(Comment).where(Comment.id == comment.id).values(open_reports=1))
    db.session.commit()
    page = signed_in.get("/moderation/?status=reported").get_data(as_text=True)
    assert "Keep (dismiss reports)" in page and "Undo last decision" in page
    act(signed_in, comment.id, "approve")  # keep it, dismissing the reports
    page = signed_in.get("/moderation/?status=approved").get_data(as_text=True)
    assert "Kept: 1 comment." in page
    assert ids_on(page) == [comment.id]
    assert "Undo last decision" not in page  # keeping changed nothing to undo
    signed_in.post(
        f"/moderation/comments/{comment.id}/undo", data={"csrf_token": queue_token(signed_in)}
    )
    assert state_of(comment.id) is A
    assert "nothing to undo" in signed_in.get("/moderation/").get_data(as_text=True)


def test_only_rejections_record_a_reason(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P)
    signed_in.post(
        "/moderation/bulk",
        data={
            "csrf_token": queue_token(signed_in),
            "action": "approve",
            "reason": "abusive",
            "ids": [str(comment.id)],
        },
    )
    assert db.session.scalar(db.select(Decision.reason)) is None


@pytest.mark.parametrize(
    ("query", "status"),
    [("q=%00abc", 200), ("q=a%00", 200), ("after=%C2%B2", 404), ("publication=%C2%B2", 404)],
)
def test_odd_queue_queries_never_500(
    app: Flask, signed_in: FlaskClient, query: str, status: int
) -> None:
    assert signed_in.get(f"/moderation/?{query}").status_code == status


@pytest.mark.parametrize(
    ("state", "reported", "buttons"),
    [
        (P, False, ["Approve", "Reject", "Spam"]),
        (A, False, ["Reject", "Spam"]),
        (A, True, ["Keep (dismiss reports)", "Reject", "Spam"]),
        (R, False, ["Spam", "Restore"]),
        (S, False, ["Restore"]),
    ],
)
def test_each_row_offers_exactly_the_actions_its_state_allows(
    app: Flask, signed_in: FlaskClient, state: CommentState, reported: bool, buttons: list[str]
) -> None:
    comment = make_comment(make_publication(), state=state)
    if reported:
        db.session.execute(
            db.update(Comment).where(Comment.id == comment.id).values(open_reports=1)
        )
        db.session.commit()
    page = signed_in.get("/moderation/?status=all").get_data(as_text=True)
    row = page[page.index(f'id="comment-{comment.id}"') :]
    start = row.index('class="queue-item__actions"')
    row = row[start : row.index("</div>", start)]
    buttons_row = row.split("<details")[0]  # the one-click buttons, before "with a reason"
    shown = re.findall(
        r'<button class="button[^"]*" type="submit"[^>]*>([^<]+)</button>', buttons_row
    )
    assert shown == buttons
    assert [a.label for a in decisions.allowed_actions(comment)] == buttons
    for label in buttons:  # each button posts to the action it names and can be done
        action = next(a for a in decisions.allowed_actions(comment) if a.label == label)
        assert f'/moderation/comments/{comment.id}/{action.value}"' in row
