"""Serving media files, and the desk's media library."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..accounts.access import editor_required
from ..extensions import db
from ..moderation.forms import ActionForm
from . import library

bp = Blueprint("media", __name__)

YEAR = 365 * 24 * 3600


@bp.get("/media/<name>")
def serve(name: str) -> Response:
    """A stored image: its name is its content's hash, so it may be kept for a year."""
    path = library.storage().path(name)
    if path is None:
        abort(404)
    response = send_file(path, max_age=YEAR, conditional=True, etag=True)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


@bp.route("/desk/media", methods=["GET", "POST"])
@editor_required
def index() -> Any:
    """Upload an image, or copy the Markdown of one already there."""
    status = 200
    if request.method == "POST":
        form = ActionForm()
        upload = request.files.get("image")
        alt = (request.form.get("alt") or "").strip()[:300]
        if not form.validate_on_submit():
            flash("Nothing was uploaded: the page had expired. Please try again.", "error")
            return redirect(url_for("media.index"), code=303)
        if upload is None or not upload.filename:
            flash("Choose an image to upload.", "error")
            status = 400
        elif not alt:
            flash("Describe the image (alternative text) for readers who cannot see it.", "error")
            status = 400
        else:
            try:
                media = library.upload(
                    upload.read(), upload.filename, alt, current_user, library.storage()
                )
            except library.UploadRefused as refused:
                db.session.rollback()
                flash(f"Not uploaded: {refused}", "error")
                status = 400
            else:
                db.session.commit()
                flash(f"Uploaded: {media.largest}.", "success")
                return redirect(url_for("media.index"), code=303)
    return render_template(
        "media/index.html", items=library.recent(), action_form=ActionForm()
    ), status
