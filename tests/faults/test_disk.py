"""The disk holding media or mail files fills up: that write is refused, nothing else."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db, mailman
from discussion.mail import delivery
from discussion.media.storage import DirectoryStorage
from discussion.models import MailStatus, MediaFile
from tests.helpers import login, make_publication, post_comment
from tests.test_mail_delivery import mails, on_call
from tests.test_media import picture, upload

from .support import fill


def test_a_full_media_disk_refuses_the_upload_and_leaves_nothing_behind(
    app: Flask, client: FlaskClient, editor, small_disk: Path
) -> None:
    media = small_disk / "media"
    app.extensions["media_storage"] = DirectoryStorage(media)
    publication = make_publication()
    db.session.commit()
    login(client, "ed")
    media.mkdir()
    filler = fill(small_disk)
    try:
        refused = upload(client, picture(size=(2400, 1600)))
        article = client.get(f"/publications/{publication.slug}")
    finally:
        filler.unlink()
    assert refused.status_code == 400
    assert "the media storage is full" in refused.get_data(as_text=True)
    assert article.status_code == 200  # the rest of the site goes on
    assert list(media.iterdir()) == []  # no width of the refused image, no temporary file
    assert db.session.scalar(db.select(db.func.count()).select_from(MediaFile)) == 0
    assert upload(client, picture(size=(2400, 1600))).status_code in (302, 303)


def test_a_full_mail_disk_keeps_the_mail_for_its_retry(
    app: Flask, client: FlaskClient, runner, small_disk: Path
) -> None:
    app.config.update(MAIL_FILE_PATH=str(small_disk / "mail"))
    mailman.init_app(app)
    assert app.config["MAIL_BACKEND"] == delivery.EML_BACKEND
    on_call(app)
    (small_disk / "mail").mkdir()
    filler = fill(small_disk)
    try:
        posted = post_comment(client, make_publication().slug)  # the comment is in the database
        result = runner.invoke(args=["worker", "--once"])
    finally:
        filler.unlink()
    assert posted.status_code == 303
    assert result.exit_code == 0, result.output
    assert list((small_disk / "mail").iterdir()) == []  # no half-written file
    [waiting] = mails()
    assert waiting.status is MailStatus.QUEUED and waiting.attempts == 1
