"""The JSON API: publications, threads, counts, posting as the form does, the poster's
status, problem documents for every bad input, caching and cross-site rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.accounts import staff
from discussion.extensions import db
from discussion.models import Comment, CommentState, Hold, Role, SlugRedirect
from tests.helpers import (
    PASSWORD,
    USIP,
    login,
    make_comment,
    make_publication,
    post_comment,
    queue_token,
    site_admin,
)

ALLOWED = "https://www.example.org"
PROBLEM = "application/problem+json"


def problem(response, status: int, kind: str) -> dict:  # type: ignore[no-untyped-def]
    """The problem document of an answer that must be this kind of error."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["type"] == f"/api/v1/reference#problem-{kind}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def send(client: FlaskClient, slug: str, **fields: object):  # type: ignore[no-untyped-def]
    payload = {"name": "Ada", "body": "Hello from the app."}
    payload.update(fields)
    return client.post(f"/api/v1/publications/{slug}/comments", json=payload)


def test_publications_are_listed_newest_first_in_keyset_pages(app: Flask, client) -> None:
    made = [make_publication(published=f"2024-01-{day:02d}") for day in range(1, 6)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/publications?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).get_json()
        seen += [p["slug"] for p in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [p.slug for p in reversed(made)]
    first = client.get("/api/v1/publications?limit=1").get_json()["items"][0]
    assert first["title"] == made[-1].title and first["comment_count"] == 0
    assert first["links"]["comments"] == f"/api/v1/publications/{made[-1].slug}/comments"


def test_publications_filter_like_the_index(app: Flask, client) -> None:
    make_publication(topics=["Iran"], types=["Analysis"])
    other = make_publication(topics=["Peace"], types=["Report"])
    body = client.get("/api/v1/publications?topic=peace").get_json()
    assert [p["slug"] for p in body["items"]] == [other.slug]
    assert [p["slug"] for p in client.get("/api/v1/publications?type=report").json["items"]] == [
        other.slug
    ]
    problem(client.get("/api/v1/publications?topic=nothing-here"), 400, "invalid-parameter")
    problem(client.get("/api/v1/publications?cursor=%%%"), 400, "invalid-parameter")
    problem(client.get("/api/v1/publications?limit=0"), 400, "invalid-parameter")
    problem(client.get("/api/v1/publications?limit=abc"), 400, "invalid-parameter")
    misspelt = problem(client.get("/api/v1/publications?topics=peace"), 400, "invalid-parameter")
    assert "'topics'" in misspelt["detail"]


def test_one_publication_by_slug_and_drafts_stay_hidden(app: Flask, client) -> None:
    p = make_publication(title="Talks resume")
    make_comment(p)
    body = client.get(f"/api/v1/publications/{p.slug}").get_json()
    assert body["title"] == "Talks resume" and body["comment_count"] == 1
    assert "body of publication" in body["body_html"]
    future = make_publication(published=(datetime.now(UTC) + timedelta(days=3)).date().isoformat())
    problem(client.get(f"/api/v1/publications/{future.slug}"), 404, "not-found")
    problem(client.get("/api/v1/publications/NOT a slug"), 404, "not-found")
    db.session.add(SlugRedirect(slug="talks-old", publication_id=p.id))
    db.session.commit()
    moved = client.get("/api/v1/publications/talks-old/comments?page=1")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"/api/v1/publications/{p.slug}/comments?page=1"
    assert client.get("/api/v1/publications/talks-old").headers["Location"].endswith(p.slug)


def test_the_thread_is_nested_and_shows_only_approved_comments(app: Flask, client) -> None:
    p = make_publication()
    root = make_comment(p, name="Ada", body="First <b>bold</b>")
    reply = make_comment(p, parent=root, name="Bo", minutes=1)
    make_comment(p, parent=reply, name="Cy", minutes=2, state=CommentState.PENDING)
    make_comment(p, name="Spammer", minutes=3, state=CommentState.SPAM)
    body = client.get(f"/api/v1/publications/{p.slug}/comments").get_json()
    assert body["approved_count"] == 2 and body["pages"] == 1
    [item] = body["items"]
    assert item["name"] == "Ada" and item["parent_id"] is None
    assert "&lt;b&gt;bold&lt;/b&gt;" in item["body_html"]  # typed HTML is shown as text
    assert [(r["id"], r["parent_id"], r["depth"]) for r in item["replies"]] == [
        (reply.id, root.id, 1)
    ]
    assert item["replies"][0]["replies"] == []
    problem(client.get(f"/api/v1/publications/{p.slug}/comments?page=2"), 404, "not-found")
    last = f"/api/v1/publications/{p.slug}/comments?page=1000000000"  # the largest page asked
    problem(client.get(last), 404, "not-found")
    problem(client.get(f"/api/v1/publications/{p.slug}/comments?page=-1"), 400, "invalid-parameter")


@pytest.mark.config(COMMENT_THREADS_PER_PAGE=2)
def test_the_thread_is_paginated(app: Flask, client) -> None:
    p = make_publication()
    comments = [make_comment(p, minutes=i) for i in range(5)]
    pages = [client.get(f"/api/v1/publications/{p.slug}/comments?page={n}").json for n in (1, 2, 3)]
    assert [[c["id"] for c in page["items"]] for page in pages] == [
        [comments[0].id, comments[1].id],
        [comments[2].id, comments[3].id],
        [comments[4].id],
    ]
    assert pages[0]["pages"] == 3


def test_reads_carry_etags_and_are_shared_like_pages(app: Flask, client, page_clock) -> None:
    p = make_publication()
    url = f"/api/v1/publications/{p.slug}/comments"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "public, max-age=0, s-maxage=1"
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    make_comment(p)  # a new approved comment: through the service it would touch the page
    from discussion.publications import catalog

    catalog.touch([p.id])
    db.session.commit()
    changed = client.get(url)
    assert changed.headers["ETag"] != etag and changed.json["approved_count"] == 1
    with_token = client.get(url, headers={"Authorization": "Bearer x"})
    assert "public" not in with_token.headers["Cache-Control"]


def test_counts_for_many_slugs_and_addresses_in_one_request(app: Flask, client) -> None:
    a, b = make_publication(), make_publication()
    for i in range(3):
        make_comment(a, minutes=i)
    make_comment(b, state=CommentState.PENDING)
    own = f"http://127.0.0.1:5000/publications/{a.slug}"
    response = client.get(
        f"/api/v1/counts?slug={a.slug}&slug={b.slug}&slug=missing&url={own}"
        "&url=https://elsewhere.example/x"
    )
    assert response.json == {
        "slugs": {a.slug: 3, b.slug: 0, "missing": None},
        "urls": {own: 3, "https://elsewhere.example/x": None},
    }
    query = "&".join(f"slug=s{i}" for i in range(101))
    problem(client.get(f"/api/v1/counts?{query}"), 400, "invalid-parameter")


def test_posting_holds_the_comment_as_the_form_does(app: Flask, client) -> None:
    p = make_publication()
    response = send(client, p.slug, email="ada@example.org", body="I *agree*.")
    assert response.status_code == 201
    body = response.json
    assert body["state"] == "pending"
    assert response.headers["Location"] == body["links"]["status"]
    comment = db.session.get(Comment, body["id"])
    assert comment.state is CommentState.PENDING and comment.body_text == "I *agree*."
    assert comment.email == "ada@example.org" and comment.ip_hash
    assert body["comment"]["body_html"] == comment.body_html
    status = client.get(body["links"]["status"]).json
    assert status["status"] == "pending" and status["publication"]["slug"] == p.slug
    assert client.get(f"/api/v1/publications/{p.slug}/comments").json["items"] == []
    # the poster may withdraw it while it is pending, as on the status page
    assert client.delete(body["links"]["status"]).status_code == 204
    assert db.session.get(Comment, body["id"]) is None
    problem(client.get(body["links"]["status"]), 404, "not-found")
    problem(client.get("/api/v1/comments/status/forged"), 404, "not-found")


def test_a_reply_and_the_rules_apply_as_on_the_form(app: Flask, client) -> None:
    from discussion.moderation import settings

    p = make_publication()
    parent = make_comment(p)
    settings.save({"premoderation": False, "banned_words": ["casino"]}, site_admin())
    db.session.commit()
    reply = send(client, p.slug, parent_id=parent.id, body="Agreed.")
    assert reply.status_code == 201 and reply.json["state"] == "approved"
    stored = db.session.get(Comment, reply.json["id"])
    assert stored.parent_id == parent.id and stored.root_id == parent.id
    banned = send(client, p.slug, body="Visit my casino")
    assert banned.json["state"] == "pending"  # rejected, but no hint for spammers
    refused = db.session.get(Comment, banned.json["id"])
    assert refused.state is CommentState.REJECTED
    assert db.session.scalar(db.select(Hold.rule).where(Hold.comment_id == refused.id))
    assert client.get(banned.json["links"]["status"]).json["status"] == "not-published"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "bell\x07"}, "body"),
        ({"email": "not an address"}, "email"),
        ({"parent_id": 999999}, "parent_id"),
        ({"notify_outcome": True}, "email"),
        ({"name": 5}, "name"),
        ({"parent_id": "1"}, "parent_id"),
        ({"notify_replies": "yes"}, "notify_replies"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_every_bad_field_is_named_with_a_reason(app: Flask, client, fields, field) -> None:
    p = make_publication()
    body = problem(send(client, p.slug, **fields), 422, "invalid-fields")
    assert field in [e["field"] for e in body["errors"]]
    assert all(e["detail"] for e in body["errors"])
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0


def test_a_missing_field_is_named(app: Flask, client) -> None:
    p = make_publication()
    response = client.post(f"/api/v1/publications/{p.slug}/comments", json={"name": "Ada"})
    body = problem(response, 422, "invalid-fields")
    assert body["errors"] == [{"field": "body", "detail": "This field is required."}]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "kind"),
    [
        (b"{", "application/json", 400, "invalid-json"),
        (b"NaN", "application/json", 400, "invalid-json"),
        (b"[" * 50000, "application/json", 400, "invalid-json"),
        (b'{"name": "\xff"}', "application/json", 400, "invalid-encoding"),
        (b"[]", "application/json", 422, "invalid-fields"),
        (b'"text"', "application/json", 422, "invalid-fields"),
        (b"name=Ada", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
        (b'{"body": "' + b"x" * 200_000 + b'"}', "application/json", 413, "body-too-large"),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(
    app: Flask, client, data, content_type, status, kind
) -> None:
    p = make_publication()
    response = client.post(
        f"/api/v1/publications/{p.slug}/comments", data=data, content_type=content_type
    )
    problem(response, status, kind)


def test_closed_comments_and_unknown_publications(app: Flask, client) -> None:
    closed = make_publication()
    closed.comments_open = False
    db.session.commit()
    problem(send(client, closed.slug), 403, "comments-closed")
    problem(send(client, "no-such-publication"), 404, "not-found")
    problem(client.put(f"/api/v1/publications/{closed.slug}/comments"), 405, "method-not-allowed")


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_COMMENTS="2/minute")
def test_the_rate_limit_is_the_forms_and_shared_with_it(seeded: Flask, client) -> None:
    assert post_comment(client, USIP, body="One.").status_code == 303
    assert send(client, USIP, body="Two.").status_code == 201
    body = problem(send(client, USIP, body="Three."), 429, "rate-limited")
    assert "detail" in body
    assert post_comment(client, USIP, body="Four.").status_code == 429


def test_cross_site_posts_are_refused_unless_the_origin_is_allowed(app: Flask, client) -> None:
    p = make_publication()
    url = f"/api/v1/publications/{p.slug}/comments"
    payload = json.dumps({"name": "Ada", "body": "Hi"})
    headers = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    problem(
        client.post(url, data=payload, content_type="application/json", headers=headers),
        403,
        "cross-origin",
    )
    app.config["EMBED_ORIGINS"] = [ALLOWED]
    headers = {"Origin": ALLOWED, "Sec-Fetch-Site": "cross-site"}
    assert (
        client.post(url, data=payload, content_type="application/json", headers=headers).status_code
        == 201
    )
    # moderation stays same-origin only, whatever EMBED_ORIGINS says
    [pending] = db.session.scalars(db.select(Comment)).all()
    staff.create_moderator("mo", PASSWORD, Role.MODERATOR)
    db.session.commit()
    login(client, "mo")
    token = queue_token(client)
    client.post(
        f"/moderation/comments/{pending.id}/approve", data={"csrf_token": token}, headers=headers
    )
    db.session.refresh(pending)
    assert pending.state is CommentState.PENDING
    client.post(f"/moderation/comments/{pending.id}/approve", data={"csrf_token": token})
    db.session.refresh(pending)
    assert pending.state is CommentState.APPROVED  # the same request from the site itself


@pytest.mark.config(EMBED_ORIGINS=[ALLOWED])
def test_cors_preflight_from_an_allowed_and_a_refused_origin(app: Flask, client) -> None:
    p = make_publication()
    url = f"/api/v1/publications/{p.slug}/comments"
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = client.options(url, headers={"Origin": ALLOWED, **ask})
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = client.options(url, headers={"Origin": "https://evil.example", **ask})
    assert "Access-Control-Allow-Origin" not in refused.headers
    read = client.get("/api/v1/counts?slug=x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in read.headers
    queue = client.options(
        "/api/v1/moderation/queue",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in queue.headers


def test_the_openapi_document_and_the_reference_page(app: Flask, client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert {
        "/publications",
        "/publications/{slug}",
        "/publications/{slug}/comments",
        "/counts",
        "/moderation/queue",
    } <= set(spec["paths"])
    page = client.get("/api/v1/reference").get_data(as_text=True)
    assert "problem-invalid-fields" in page and "/publications/{slug}/comments" in page


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_a_fault_on_our_side_is_a_problem_document_too(app: Flask, client, monkeypatch) -> None:
    from discussion.api import represent

    p = make_publication()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(represent, "publication", broken)
    body = problem(client.get(f"/api/v1/publications/{p.slug}"), 500, "server-error")
    assert "a bug" not in body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/publications/{slug}/comments/99999999999/report",
        "/publications/{slug}?reply_to=99999999999",
        "/moderation/comments/99999999999/approve",
        "/api/v1/moderation/comments/99999999999/decisions",
    ],
)
def test_ids_beyond_32_bits_name_nothing(app: Flask, client, path: str) -> None:
    """PostgreSQL's ids are 32-bit: a larger one in an address is not found (or ignored),
    never sent to the database."""
    p = make_publication()
    url = path.format(slug=p.slug)
    response = client.post(url) if "/moderation/" in url else client.get(url)
    assert response.status_code in (200, 302, 404), response.status_code
