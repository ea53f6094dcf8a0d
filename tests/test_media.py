"""Uploaded images: hostile files refused with a clear message, metadata stripped, widths
for srcset, long-lived serving, a full disk, and the figure on the article."""

from __future__ import annotations

import errno
import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from discussion.extensions import db
from discussion.media import images, library
from discussion.media.storage import DirectoryStorage
from discussion.models import MediaFile, Moderator, Publication
from tests.helpers import csrf_token, login
from tests.test_desk import FORM, form_of


def picture(fmt: str = "JPEG", size: tuple[int, int] = (1200, 800), **save: object) -> bytes:
    image = Image.new("RGB", size, (200, 30, 40))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def with_gps_exif() -> bytes:
    image = Image.new("RGB", (640, 480), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def huge_declared_png() -> bytes:
    """A valid PNG header declaring 100,000 x 100,000 pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


HOSTILE = [
    ("truncated.jpg", picture()[:3000], "damaged or incomplete"),
    ("bomb.png", huge_declared_png(), "million pixels"),
    ("page.jpg", b"<html><script>alert(1)</script></html>", "not an image we can take"),
    (
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "not an image we can take",
    ),
    ("anim.gif", picture("GIF"), "Only JPEG, PNG and WebP"),
    ("empty.jpg", b"", "empty"),
    ("big.jpg", b"\xff\xd8" + b"\x00" * (images.MAX_BYTES + 1), "larger than 10 MB"),
]


@pytest.mark.parametrize(("name", "data", "message"), HOSTILE)
def test_hostile_uploads_are_refused_with_a_clear_message(
    name: str, data: bytes, message: str
) -> None:
    with pytest.raises(images.Refused, match=message):
        images.prepare(data)


def test_exif_and_gps_are_stripped() -> None:
    prepared = images.prepare(with_gps_exif())
    for rendition in prepared.renditions:
        stored = Image.open(io.BytesIO(rendition.data))
        assert not stored.getexif()
        assert b"SpyCam" not in rendition.data


def test_a_polyglot_loses_what_rides_along() -> None:
    payload = b"<script>alert(1)</script>PK\x03\x04 zip inside"
    prepared = images.prepare(picture() + payload)
    assert all(
        b"<script>" not in r.data and b"PK\x03\x04" not in r.data for r in prepared.renditions
    )


def test_widths_are_made_without_upscaling_and_names_follow_the_content() -> None:
    prepared = images.prepare(picture(size=(1200, 800)))
    assert [(r.width, r.height) for r in prepared.renditions] == [
        (480, 320),
        (960, 640),
        (1200, 800),
    ]
    assert prepared.stem == images.prepare(picture(size=(1200, 800))).stem
    assert [r.width for r in images.prepare(picture(size=(300, 200))).renditions] == [300]
    png = images.prepare(picture("PNG", size=(500, 500)))
    assert png.extension == "png" and png.content_type == "image/png"


# --- through the app -----------------------------------------------------------------------


@pytest.fixture
def media_root(app: Flask, tmp_path: Path) -> Path:
    app.extensions["media_storage"] = DirectoryStorage(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def desk(client: FlaskClient, editor: Moderator, clock, media_root: Path) -> FlaskClient:
    login(client, "ed")
    return client


def upload(client: FlaskClient, data: bytes, name: str = "photo.jpg", alt: str = "A photo"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/desk/media")
    return client.post(
        "/desk/media",
        data={"csrf_token": token, "alt": alt, "image": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_library_stores_widths_and_serves_them_for_a_year(
    app: Flask, desk: FlaskClient, media_root: Path
) -> None:
    assert upload(desk, picture(size=(2000, 1000))).status_code == 303
    media = db.session.scalar(db.select(MediaFile))
    assert media.widths == [480, 960, 1600] and media.alt == "A photo"
    assert sorted(p.name for p in media_root.iterdir()) == sorted(
        media.file_name(w) for w in media.widths
    )
    response = app.test_client().get(f"/media/{media.file_name(960)}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    response.close()
    assert app.test_client().get("/media/..%2Fconfig.py").status_code == 404
    page = desk.get("/desk/media").get_data(as_text=True)
    assert f"![A photo](/media/{media.file_name(960)}" in page


@pytest.mark.parametrize(("name", "data", "message"), HOSTILE[:5])
def test_the_library_refuses_hostile_files_and_stores_nothing(
    app: Flask, desk: FlaskClient, media_root: Path, name: str, data: bytes, message: str
) -> None:
    response = upload(desk, data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(MediaFile)) == 0
    assert not media_root.exists() or not any(media_root.iterdir())


def test_an_upload_needs_alternative_text(app: Flask, desk: FlaskClient) -> None:
    response = upload(desk, picture(), alt="")
    assert response.status_code == 400
    assert "alternative text" in response.get_data(as_text=True)


def test_a_full_disk_refuses_the_upload_clearly(
    app: Flask, desk: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("discussion.media.storage.os.fsync", full)
    response = upload(desk, picture())
    assert response.status_code == 400
    assert "the media storage is full" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(MediaFile)) == 0


@pytest.mark.parametrize("url", ["/desk/media"])
def test_only_editors_reach_the_library(
    app: Flask, client: FlaskClient, moderator: Moderator, url: str
) -> None:
    assert client.get(url).headers["Location"].startswith("/auth/login?next=")
    login(client, "mod")
    assert client.get(url).status_code == 403


def test_the_figure_is_uploaded_with_the_article_and_shown_with_srcset(
    app: Flask, desk: FlaskClient
) -> None:
    token = form_of(desk.get("/desk/publications/new").get_data(as_text=True))
    data = {
        **FORM,
        **token,
        "action": "publish",
        "figure_alt": "Negotiators at the table",
        "figure_caption": "The talks in Muscat.",
        "figure": (io.BytesIO(with_gps_exif()), "talks.jpg"),
    }
    response = desk.post("/desk/publications/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    publication = db.session.scalar(db.select(Publication))
    assert publication.figure is not None
    page = app.test_client().get(f"/publications/{publication.slug}").get_data(as_text=True)
    figure = re.search(r'<img class="figure__image"[^>]+>', page).group(0)
    assert 'alt="Negotiators at the table"' in figure
    assert "480w" in figure and "srcset=" in figure
    assert "The talks in Muscat." in page


def test_a_figure_without_alternative_text_is_refused_and_the_text_kept(
    app: Flask, desk: FlaskClient
) -> None:
    token = form_of(desk.get("/desk/publications/new").get_data(as_text=True))
    data = {
        **FORM,
        **token,
        "action": "publish",
        "body": "Kept body.",
        "figure": (io.BytesIO(picture()), "talks.jpg"),
    }
    response = desk.post("/desk/publications/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Describe the image" in page and "Kept body." in page


def test_a_hostile_figure_is_refused_beside_the_field(app: Flask, desk: FlaskClient) -> None:
    token = form_of(desk.get("/desk/publications/new").get_data(as_text=True))
    data = {
        **FORM,
        **token,
        "action": "publish",
        "figure_alt": "x",
        "figure": (io.BytesIO(b"<svg onload=alert(1)>"), "x.jpg"),
    }
    response = desk.post("/desk/publications/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not an image we can take" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Publication)) == 0


def test_library_upload_checks_the_role(app: Flask, moderator: Moderator, tmp_path: Path) -> None:
    with pytest.raises(library.UploadRefused):
        library.upload(picture(), "x.jpg", "x", moderator, DirectoryStorage(tmp_path))
