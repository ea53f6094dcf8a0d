"""The media library: storing an upload (checked, re-encoded, in a few widths) and
listing what is there. Every function takes the editor and the storage."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db
from ..models import MediaFile, Moderator
from . import images
from .storage import DirectoryStorage, Storage, StorageFull

ORIGINAL_NAME_LENGTH = MediaFile.__table__.c.original_name.type.length


class UploadRefused(ValueError):
    """An upload the library does not take, with a message for the editor."""


def storage() -> Storage:
    """The configured storage (``MEDIA_ROOT``)."""
    return current_app.extensions["media_storage"]


def upload(
    data: bytes, original_name: str, alt: str, editor: Moderator, store: Storage
) -> MediaFile:
    """Check, re-encode and store an image; the same image uploaded twice is stored once."""
    if not editor.can_edit:
        raise UploadRefused("Only editors upload images.")
    try:
        prepared = images.prepare(data)
    except images.Refused as refused:
        raise UploadRefused(str(refused)) from None
    existing = db.session.scalar(select(MediaFile).where(MediaFile.stem == prepared.stem))
    if existing is not None:
        return existing
    media = MediaFile(
        stem=prepared.stem,
        extension=prepared.extension,
        content_type=prepared.content_type,
        width=prepared.width,
        height=prepared.height,
        widths=[r.width for r in prepared.renditions],
        original_name=original_name[:ORIGINAL_NAME_LENGTH],
        alt=alt,
        uploaded_by=editor.id,
    )
    saved: list[str] = []
    try:
        for rendition in prepared.renditions:
            store.save(media.file_name(rendition.width), rendition.data)
            saved.append(media.file_name(rendition.width))
    except StorageFull:
        for name in saved:  # no widths of an image the library does not list
            store.delete(name)
        raise UploadRefused(
            "The image was not stored: the media storage is full. Nothing else was lost; "
            "tell the site's administrators."
        ) from None
    db.session.add(media)
    db.session.flush()
    return media


def recent(limit: int = 60) -> list[MediaFile]:
    """The newest uploads first."""
    return list(db.session.scalars(select(MediaFile).order_by(MediaFile.id.desc()).limit(limit)))


def by_file_name(name: str) -> MediaFile | None:
    """The image one of whose stored files has this name."""
    stem = name.split("-", 1)[0]
    return db.session.scalar(select(MediaFile).where(MediaFile.stem == stem))


def init_app(app: Flask) -> None:
    """Bind the storage to the app (``MEDIA_ROOT``, default ``instance/media``)."""
    root = app.config.get("MEDIA_ROOT") or f"{app.instance_path}/media"
    app.extensions["media_storage"] = DirectoryStorage(root)
