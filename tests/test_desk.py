"""The editorial desk: who may use it, writing, states and schedule, slugs, revisions,
conflicts, corrections, previews, lost sessions and the related list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion import demo
from discussion.accounts import staff
from discussion.desk import editing
from discussion.extensions import db
from discussion.models import (
    Moderator,
    Publication,
    PublicationState,
    Revision,
    Role,
    SlugRedirect,
    Topic,
)
from discussion.publications import related
from tests.helpers import PASSWORD, csrf_token, login, make_publication

FORM = {
    "title": "Talks resume in Oman",
    "slug": "",
    "dek": "Negotiators meet again after a year.",
    "summary": "",
    "body": "The talks **resume** on Monday.\n\n## What is at stake\n\nSanctions relief.",
    "authors": "Viola Gienger\nRobin Wright",
    "types": "Analysis",
    "topics": "Global Policy",
    "published_at": "",
    "partner": "",
    "source_note": "",
    "figure_alt": "",
    "figure_caption": "",
    "comment_policy": "open",
    "correction": "",
}


@pytest.fixture
def desk(client: FlaskClient, editor: Moderator, clock: list[datetime]) -> FlaskClient:
    login(client, "ed")
    return client


def form_of(page: str) -> dict[str, str]:
    """The desk form's hidden revision and CSRF token, as the browser would send them."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    revision = re.search(r'name="revision"[^>]*value="([^"]*)"', page) or re.search(
        r'value="([^"]*)"[^>]*name="revision"', page
    )
    assert token and revision
    return {"csrf_token": token.group(1), "revision": revision.group(1)}


def save(client: FlaskClient, url: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {**FORM, **form_of(client.get(url).get_data(as_text=True)), **fields, "action": action}
    return client.post(url, data=data)


def created(client: FlaskClient, action: str = "draft", **fields: str) -> Publication:
    response = save(client, "/desk/publications/new", action, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    publication_id = int(response.headers["Location"].split("/")[-2])
    return db.session.get(Publication, publication_id)


# --- who ----------------------------------------------------------------------------

GETS = ["/desk/", "/desk/publications/new", "/desk/publications/{id}/edit",
        "/desk/publications/{id}/preview", "/desk/publications/{id}/revisions/1"]  # fmt: skip
POSTS = ["/desk/publications/new", "/desk/publications/{id}/edit",
         "/desk/publications/{id}/revisions/1/restore",
         "/desk/publications/{id}/related/{id}/pin"]  # fmt: skip


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    for url in GETS:
        response = client.get(url.format(id=publication.id))
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (POSTS[0], 401),  # the sign-in page, carrying what was typed
        (POSTS[1], 401),
        (POSTS[2], 303),  # no session, so no valid token: back to the desk, then sign-in
        (POSTS[3], 303),
    ],
)
def test_anonymous_posts_change_nothing(
    app: Flask, client: FlaskClient, url: str, status: int
) -> None:
    publication = make_publication()
    response = client.post(url.format(id=publication.id), data={**FORM, "action": "publish"})
    assert response.status_code == status
    if status == 401:
        assert "Sign in again to keep your work" in response.get_data(as_text=True)
    else:
        assert response.headers["Location"] == "/desk/"
    assert db.session.scalar(db.select(db.func.count()).select_from(Publication)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Revision)) == 0


@pytest.mark.parametrize("url", GETS + POSTS)
def test_moderators_get_403_at_the_desk(
    app: Flask, client: FlaskClient, moderator: Moderator, url: str
) -> None:
    publication = make_publication()
    login(client, "mod")
    url = url.format(id=publication.id)
    response = client.get(url) if url in [u.format(id=publication.id) for u in GETS] else None
    if response is None:
        token = csrf_token(client, "/moderation/")
        response = client.post(url, data={**FORM, "action": "publish", "csrf_token": token})
    assert response.status_code == 403


def test_editors_do_not_moderate(app: Flask, desk: FlaskClient) -> None:
    assert desk.get("/moderation/").status_code == 403
    page = desk.get("/desk/").get_data(as_text=True)
    assert 'href="/desk/"' in page and 'href="/moderation/"' not in page


def test_admins_use_the_desk(app: Flask, client: FlaskClient, admin: Moderator) -> None:
    login(client, "chief")
    assert client.get("/desk/").status_code == 200


def test_editors_sign_in_to_the_desk(app: Flask, client: FlaskClient, editor: Moderator) -> None:
    assert login(client, "ed").headers["Location"] == "/desk/"


def test_create_an_editor_account(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["create-moderator", "eve", "--password", PASSWORD, "--role", "editor"]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(Moderator).filter_by(username="eve")).can_edit


# --- writing and states ----------------------------------------------------------------


def test_a_draft_is_saved_and_hidden_from_readers(app: Flask, desk: FlaskClient) -> None:
    publication = created(desk, "draft")
    assert publication.state is PublicationState.DRAFT
    assert publication.slug == "talks-resume-in-oman"
    assert [a.name for a in publication.authors] == ["Viola Gienger", "Robin Wright"]
    assert "<strong>resume</strong>" in publication.body_html
    assert "<h2>What is at stake</h2>" in publication.body_html
    assert FORM["body"] == publication.body_source
    reader = app.test_client()
    assert reader.get("/publications/talks-resume-in-oman").status_code == 404
    assert "Talks resume" not in reader.get("/").get_data(as_text=True)
    assert "Draft saved" in desk.get(f"/desk/publications/{publication.id}/edit").get_data(
        as_text=True
    )


def test_publish_now_shows_it_to_readers(app: Flask, desk: FlaskClient, clock) -> None:
    publication = created(desk, "publish")
    assert publication.state is PublicationState.PUBLISHED
    assert publication.published_at == clock[0]
    reader = app.test_client()
    page = reader.get("/publications/talks-resume-in-oman").get_data(as_text=True)
    assert "<h2>What is at stake</h2>" in page
    assert (
        '<a href="/authors/viola-gienger">Viola Gienger</a> and <a href="/authors/robin-wright">'
        in page
    )
    assert "Talks resume in Oman" in reader.get("/").get_data(as_text=True)


def test_a_scheduled_publication_appears_at_its_time(app: Flask, desk: FlaskClient, clock) -> None:
    neighbour = make_publication(title="Oman hosts talks", topics=["Global Policy"])
    publication = created(desk, "publish", published_at="2026-03-02T12:30")
    assert publication.published_at == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    listing = desk.get("/desk/?status=scheduled").get_data(as_text=True)
    assert "Talks resume in Oman" in listing
    reader = app.test_client()
    assert reader.get(f"/publications/{publication.slug}").status_code == 404
    assert "Talks resume" not in reader.get("/").get_data(as_text=True)
    clock[0] = datetime(2026, 3, 2, 12, 30, 1, tzinfo=UTC)
    app.extensions["page_cache"].clear()  # a second later, as every cache would be
    assert reader.get(f"/publications/{publication.slug}").status_code == 200
    assert "Talks resume in Oman" in reader.get("/").get_data(as_text=True)
    other = reader.get(f"/publications/{neighbour.slug}").get_data(as_text=True)
    assert "Talks resume in Oman" in other[other.index("Related Publications") :]


@pytest.mark.config(SITE_TIMEZONE="America/New_York")
def test_times_are_typed_and_shown_in_the_site_time_zone(
    app: Flask, desk: FlaskClient, clock
) -> None:
    publication = created(desk, "publish", published_at="2026-03-01T21:15")
    assert publication.published_at == datetime(2026, 3, 2, 2, 15, tzinfo=UTC)
    page = desk.get(f"/desk/publications/{publication.id}/edit").get_data(as_text=True)
    assert 'value="2026-03-01T21:15"' in page
    article = app.test_client().get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Sunday, March 1, 2026" in article


def test_unpublish_takes_it_off_the_site(app: Flask, desk: FlaskClient) -> None:
    publication = created(desk, "publish")
    url = f"/desk/publications/{publication.id}/edit"
    assert save(desk, url, "unpublish").status_code == 303
    db.session.refresh(publication)
    assert publication.state is PublicationState.UNPUBLISHED
    assert app.test_client().get(f"/publications/{publication.slug}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field_error"),
    [
        ({"title": ""}, "Please give the publication a title."),
        ({"slug": "Not A Slug!"}, "Use lowercase letters, digits and single hyphens"),
        ({"published_at": "next tuesday"}, "Not a valid datetime value."),
        ({"comment_policy": "maybe"}, "Not a valid choice."),
        ({"body": "bad \x00 byte"}, "Remove the invisible control characters"),
        ({"action": "explode"}, "choose Save draft, Publish or Unpublish"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_keeps_the_text(
    app: Flask, desk: FlaskClient, fields: dict[str, str], field_error: str
) -> None:
    fields = dict(fields)  # the table is shared by both databases' runs
    action = fields.pop("action", "publish")
    text = "Every *word* typed stays, even <this>."
    response = save(desk, "/desk/publications/new", action, dek=text, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_error in page
    assert "Every *word* typed stays, even &lt;this&gt;." in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Publication)) == 0


def test_a_taken_address_is_refused_and_nothing_is_lost(app: Flask, desk: FlaskClient) -> None:
    make_publication(slug="talks-resume-in-oman")
    response = save(desk, "/desk/publications/new", "publish", dek="My lead.")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "belongs to another publication" in page and "My lead." in page


def test_types_topics_and_authors_are_reused_or_created(app: Flask, desk: FlaskClient) -> None:
    make_publication(types=["Analysis"], topics=["Global Policy"])
    publication = created(
        desk, "publish", types="Analysis\nQuestion and Answer", topics="global policy\nIran"
    )
    assert [t.name for t in publication.types] == ["Analysis", "Question and Answer"]
    assert [t.name for t in publication.topics] == ["Global Policy", "Iran"]  # case ignored


# --- addresses, revisions, conflicts, corrections ------------------------------------------


def test_a_public_publications_old_address_answers_301_forever(
    app: Flask, desk: FlaskClient
) -> None:
    publication = created(desk, "publish")
    url = f"/desk/publications/{publication.id}/edit"
    save(desk, url, "publish", slug="oman-talks")
    save(desk, url, "publish", slug="oman-talks-resume")
    reader = app.test_client()
    for old in ("talks-resume-in-oman", "oman-talks"):
        response = reader.get(f"/publications/{old}?page=1")
        assert response.status_code == 301
        assert response.headers["Location"] == "/publications/oman-talks-resume?page=1"
    assert reader.get("/publications/oman-talks-resume").status_code == 200


def test_a_drafts_address_changes_without_a_trace(app: Flask, desk: FlaskClient) -> None:
    publication = created(desk, "draft")
    save(desk, f"/desk/publications/{publication.id}/edit", "draft", slug="second-thoughts")
    assert db.session.scalar(db.select(db.func.count()).select_from(SlugRedirect)) == 0


def test_every_save_keeps_a_revision_that_can_be_compared_and_restored(
    app: Flask, desk: FlaskClient
) -> None:
    publication = created(desk, "publish")
    url = f"/desk/publications/{publication.id}/edit"
    save(desk, url, "publish", body="A new body.", title="Talks resume in Oman again")
    revisions = editing.revisions(publication)
    assert [r.number for r in revisions] == [2, 1]
    assert revisions[0].changed == ["title", "body"]
    assert revisions[0].editor.username == "ed"
    comparison = desk.get(f"/desk/publications/{publication.id}/revisions/1").get_data(as_text=True)
    assert "\u2212 The talks **resume** on Monday." in comparison  # the minus sign
    assert "+ A new body." in comparison
    token = csrf_token(desk, f"/desk/publications/{publication.id}/revisions/1")
    response = desk.post(
        f"/desk/publications/{publication.id}/revisions/1/restore", data={"csrf_token": token}
    )
    assert response.status_code == 303
    db.session.refresh(publication)
    assert publication.body_source == FORM["body"] and publication.title == FORM["title"]
    assert publication.revision == 3
    assert editing.revisions(publication)[0].note == "restored revision 1"


def test_two_editors_saving_the_same_revision_the_second_keeps_their_text(
    app: Flask, desk: FlaskClient, clock
) -> None:
    publication = created(desk, "publish")
    url = f"/desk/publications/{publication.id}/edit"
    mine = form_of(desk.get(url).get_data(as_text=True))
    other = app.test_client()
    staff.create_moderator("ann", PASSWORD, Role.EDITOR)
    db.session.commit()
    login(other, "ann")
    assert save(other, url, "publish", body="Ann's version.").status_code == 303
    response = desk.post(
        url, data={**FORM, **mine, "body": "My careful version.", "action": "publish"}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "ann saved this publication while you were editing it" in page
    assert "My careful version." in page
    db.session.refresh(publication)
    assert publication.body_source == "Ann's version."


def test_corrections_show_an_updated_date_and_the_note(
    app: Flask, desk: FlaskClient, clock
) -> None:
    publication = created(desk, "publish")
    clock[0] += timedelta(days=2)
    save(
        desk,
        f"/desk/publications/{publication.id}/edit",
        "publish",
        body="The talks resume on Tuesday.",
        correction="An earlier version gave the wrong day.",
    )
    page = app.test_client().get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Updated <time" in page and "Wednesday, March 4, 2026" in page
    assert "An earlier version gave the wrong day." in page


def test_no_updated_date_before_the_first_publication(app: Flask, desk: FlaskClient) -> None:
    publication = created(desk, "draft")
    save(desk, f"/desk/publications/{publication.id}/edit", "publish", body="Changed.")
    page = app.test_client().get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Updated <time" not in page


# --- previews ------------------------------------------------------------------------


def test_the_editor_previews_a_draft_as_readers_will_see_it(app: Flask, desk: FlaskClient) -> None:
    publication = created(desk, "draft")
    response = desk.get(f"/desk/publications/{publication.id}/preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "<h2>What is at stake</h2>" in page and "Preview" in page


def test_a_shared_preview_link_works_without_signing_in_until_it_expires(
    app: Flask, desk: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    publication = created(desk, "draft")
    page = desk.get(f"/desk/publications/{publication.id}/edit").get_data(as_text=True)
    link = re.search(r"http://127.0.0.1:5000(/preview/[^<\s]+)", page)  # from SITE_URL
    assert link
    stranger = app.test_client()
    assert stranger.get(link.group(1)).status_code == 200
    assert stranger.get(link.group(1)[:-2] + "xx").status_code == 404
    hours = app.config["PREVIEW_LINK_HOURS"]
    later = datetime.now(UTC).timestamp() + hours * 3600 + 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert stranger.get(link.group(1)).status_code == 404


# --- nothing typed is lost ------------------------------------------------------------


def test_an_expired_session_keeps_the_text_through_signing_in_again(
    app: Flask, client: FlaskClient, editor: Moderator
) -> None:
    typed = {**FORM, "body": "Three hours of careful writing.", "action": "publish"}
    response = client.post("/desk/publications/new", data=typed)  # no session at all
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Sign in again to keep your work" in page
    assert 'value="Three hours of careful writing."' in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    carried = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    response = client.post(
        "/desk/resume",
        data={**carried, "csrf_token": token, "username": "ed", "password": PASSWORD},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You are signed in again" in page and "Three hours of careful writing." in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Publication)) == 0


def test_a_wrong_password_on_the_way_back_still_keeps_the_text(
    app: Flask, client: FlaskClient, editor: Moderator
) -> None:
    page = client.post("/desk/publications/new", data={**FORM, "body": "Kept."}).get_data(
        as_text=True
    )
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    carried = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    response = client.post(
        "/desk/resume", data={**carried, "csrf_token": token, "username": "ed", "password": "no"}
    )
    assert response.status_code == 401
    assert 'value="Kept."' in response.get_data(as_text=True)


def test_an_expired_form_token_keeps_the_text(app: Flask, desk: FlaskClient) -> None:
    response = desk.post(
        "/desk/publications/new",
        data={**FORM, "body": "Not lost.", "csrf_token": "stale", "action": "publish"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "the form had expired" in page and "Not lost." in page


# --- related lists follow every save --------------------------------------------------------


def test_related_lists_follow_publish_and_unpublish(app: Flask, desk: FlaskClient) -> None:
    anchor = make_publication(title="Sanctions relief in the Oman talks", topics=["Global Policy"])
    publication = created(desk, "publish", title="Oman talks weigh sanctions relief")
    reader = app.test_client()

    def listed_on_anchor() -> str:
        page = reader.get(f"/publications/{anchor.slug}").get_data(as_text=True)
        return page[page.index("Related Publications") :]

    assert publication.slug in listed_on_anchor()
    save(desk, f"/desk/publications/{publication.id}/edit", "unpublish")
    assert publication.slug not in listed_on_anchor()


def test_pins_and_exclusions_steer_the_list_and_survive_saves(
    app: Flask, desk: FlaskClient
) -> None:
    first = make_publication(title="Oman talks one", topics=["Global Policy"])
    second = make_publication(title="Oman talks two", topics=["Global Policy"])
    publication = created(desk, "publish", title="Oman talks three")
    url = f"/desk/publications/{publication.id}"
    edit = desk.get(f"{url}/edit").get_data(as_text=True)
    assert "topics: Global Policy" in edit  # why each item is there
    token = csrf_token(desk, f"{url}/edit")
    desk.post(f"{url}/related/{second.id}/pin", data={"csrf_token": token})
    desk.post(f"{url}/related/{first.id}/exclude", data={"csrf_token": token})
    save(desk, f"{url}/edit", "publish", body="Edited again.")
    entries = [(e.related_id, e.pinned) for e in editing_related(publication)]
    assert entries[0] == (second.id, True)
    assert first.id not in [r for r, _ in entries]
    desk.post(f"{url}/related/{first.id}/include", data={"csrf_token": token})
    assert first.id in [e.related_id for e in editing_related(publication)]


def editing_related(publication: Publication) -> list:
    db.session.expire_all()
    return related.entries(publication, public_only=False)


def test_editors_can_create_after_synthetic_data_was_loaded(app: Flask, desk: FlaskClient) -> None:
    demo.generate(3, 0, seed=1)  # gives publications their ids (PostgreSQL: the sequence)
    db.session.commit()
    assert created(desk, "draft").id == 4


# --- types, topics and authors ----------------------------------------------------------


@pytest.fixture
def chief(client: FlaskClient, admin: Moderator, clock) -> FlaskClient:
    login(client, "chief")
    return client


def test_admins_rename_a_topic_and_the_old_filter_address_answers_301(
    app: Flask, chief: FlaskClient
) -> None:
    publication = make_publication(topics=["Global Policy"])
    topic = publication.topics[0]
    token = csrf_token(chief, "/desk/labels")
    response = chief.post(
        f"/desk/labels/topic/{topic.id}/rename", data={"csrf_token": token, "name": "World Affairs"}
    )
    assert response.status_code == 303
    reader, commenter = app.test_client(), app.test_client()
    with commenter.session_transaction() as session:  # their listings are kept: the same 301
        session["own_comments"] = [1]
    for client in (reader, commenter, commenter):
        old = client.get("/publications/?topic=global-policy&page=1")
        assert old.status_code == 301
        assert old.headers["Location"] == "/publications/?page=1&topic=world-affairs"
    # an old address answers 301 whatever else its query holds (the new one checks it)
    assert commenter.get("/publications/?topic=global-policy&page=last").status_code == 301
    page = reader.get("/publications/?topic=world-affairs").get_data(as_text=True)
    assert publication.title in page and "World Affairs" in page


def test_admins_merge_types_and_every_old_address_follows(app: Flask, chief: FlaskClient) -> None:
    first = make_publication(types=["Analysis"])
    second = make_publication(types=["Commentary"])
    both = make_publication(types=["Analysis", "Commentary"])
    analysis, commentary = first.types[0], second.types[0]
    token = csrf_token(chief, "/desk/labels")
    chief.post(
        f"/desk/labels/type/{commentary.id}/merge",
        data={"csrf_token": token, "into": str(analysis.id)},
    )
    for publication in (first, second, both):
        db.session.refresh(publication)
        assert [t.name for t in publication.types] == ["Analysis"]
    reader = app.test_client()
    assert reader.get("/publications/?type=commentary").headers["Location"] == (
        "/publications/?type=analysis"
    )
    chief.post(
        f"/desk/labels/type/{analysis.id}/rename", data={"csrf_token": token, "name": "Analyses"}
    )
    assert reader.get("/publications/?type=commentary").headers["Location"] == (
        "/publications/?type=analyses"
    )


def test_a_rename_onto_an_existing_name_is_refused(app: Flask, chief: FlaskClient) -> None:
    make_publication(topics=["Iran", "Global Policy"])
    iran = db.session.scalar(db.select(Topic).filter_by(name="Iran"))
    token = csrf_token(chief, "/desk/labels")
    chief.post(
        f"/desk/labels/topic/{iran.id}/rename", data={"csrf_token": token, "name": "global policy"}
    )
    assert "merge into it instead" in chief.get("/desk/labels").get_data(as_text=True)
    db.session.refresh(iran)
    assert iran.name == "Iran"


def test_editors_cannot_rename_or_merge(app: Flask, desk: FlaskClient) -> None:
    publication = make_publication(topics=["Iran"])
    assert desk.get("/desk/labels").status_code == 403
    token = csrf_token(desk, "/desk/")
    response = desk.post(
        f"/desk/labels/topic/{publication.topics[0].id}/rename",
        data={"csrf_token": token, "name": "Persia"},
    )
    assert response.status_code == 403


def test_editors_write_an_authors_bio_shown_under_the_article(
    app: Flask, desk: FlaskClient
) -> None:
    publication = make_publication(authors=[{"name": "Viola Gienger", "bio": None}])
    author = publication.authors[0]
    url = f"/desk/authors/{author.id}"
    assert "no bio yet" in desk.get("/desk/authors").get_data(as_text=True)
    token = csrf_token(desk, url)
    bio = "Viola Gienger is a senior writer at USIP."
    assert desk.post(url, data={"csrf_token": token, "bio": bio}).status_code == 303
    page = app.test_client().get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert bio in page
    too_long = desk.post(url, data={"csrf_token": token, "bio": "x" * 2001})
    assert too_long.status_code == 400 and "x" * 2001 in too_long.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/desk/publications/{id}/revisions/99999999999999999999",
        "/desk/publications/{id}/revisions/0",
        "/desk/publications/99999999999999999999/edit",
        "/desk/?status=nonsense",
        "/desk/?type=x",
        "/desk/authors/99999999999999999999",
    ],
)
def test_odd_desk_addresses_answer_404_never_500(app: Flask, desk: FlaskClient, path: str) -> None:
    publication = created(desk, "draft")
    assert desk.get(path.format(id=publication.id)).status_code == 404


@pytest.mark.config(SITE_URL="https://news.example.org")
def test_the_shared_preview_link_comes_from_the_site_address_not_the_host_header(
    app: Flask, desk: FlaskClient
) -> None:
    publication = created(desk, "draft")
    page = desk.get(f"/desk/publications/{publication.id}/edit").get_data(as_text=True)
    assert "https://news.example.org/preview/" in page  # the request came to localhost
    assert "http://localhost/preview/" not in page


def test_without_a_site_address_the_edit_page_says_so_instead_of_failing(
    app: Flask, desk: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    publication = created(desk, "draft")
    monkeypatch.setattr(app, "testing", False)  # outside testing, SITE_URL is required
    response = desk.get(f"/desk/publications/{publication.id}/edit")
    assert response.status_code == 200
    assert "Links to share need the site's address" in response.get_data(as_text=True)
