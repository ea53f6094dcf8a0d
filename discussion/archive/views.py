"""The archive's pages: old addresses answering 301, and the admins' "a person's data"
(find every comment by an email address, export them as JSON, erase them)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ..accounts.access import admin_required
from ..extensions import db
from ..web import clock, errors
from . import addresses, persons
from .forms import EraseForm, ExportForm, FindForm

bp = Blueprint("archive", __name__)


@bp.before_app_request
def plain_old_link() -> Response | None:
    """WordPress's plain links (``/?p=123``) reach the front page: 301 when one names an
    imported publication. Other requests pass untouched, without a query."""
    if request.path == "/" and ("p" in request.args or "page_id" in request.args):
        slug = addresses.moved_to("/", request.query_string.decode("latin-1"))
        if slug is not None:
            return redirect(url_for("publications.article", slug=slug), code=301)
    return None


@bp.app_errorhandler(NotFound)
def old_address(error: NotFound) -> Any:
    """An imported publication's address on the old site: 301 to the article; anything
    else is the site's 404 page."""
    if request.method in ("GET", "HEAD"):
        slug = addresses.moved_to(request.path, request.query_string.decode("latin-1"))
        if slug is not None:
            return redirect(url_for("publications.article", slug=slug), code=301)
    return errors.render_error(error)


def _page(find: FindForm, email: str | None = None, status: int = 200) -> tuple[str, int]:
    found = persons.comments(email, current_user) if email else None
    return render_template(
        "archive/personal_data.html",
        find=find,
        email=email,
        found=found,
        export=ExportForm(email=email),
        erase=EraseForm(email=email),
        erasures=persons.erasures(current_user),
        erased_before=(
            persons.erased_before(email, current_app.config["SECRET_KEY"]) if email else 0
        ),
    ), status


# The address travels in POST bodies only, so it never lands in access logs or history.
@bp.route("/moderation/personal-data", methods=["GET", "POST"])
@admin_required
def personal_data() -> Any:
    """Find every comment written with an email address."""
    find = FindForm()
    if request.method == "POST":
        if find.validate_on_submit():
            return _page(find, find.email.data)
        return _page(find, status=400)
    return _page(find)


@bp.post("/moderation/personal-data/export")
@admin_required
def export_personal_data() -> Any:
    """The comments (and mail wishes) of an address, as a JSON file."""
    form = ExportForm()
    if not form.validate_on_submit():
        flash("Not exported: " + " ".join(e for v in form.errors.values() for e in v), "error")
        return redirect(url_for("archive.personal_data"), code=303)
    data = persons.export(form.email.data, current_user, clock.now())
    name = re.sub(r"[^a-z0-9]+", "-", form.email.data.lower()).strip("-")
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="personal-data-{name}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/moderation/personal-data/erase")
@admin_required
def erase_personal_data() -> Any:
    """Erase an address's comments, as the admin chose; the decision is recorded."""
    form = EraseForm()
    if not form.validate_on_submit():
        find = FindForm(email=form.email.data)
        flash("Not erased: " + form.problem(), "error")
        return _page(find, form.email.data if not form.email.errors else None, status=400)
    erased = persons.erase(
        form.email.data,
        persons.Mode(form.mode.data),
        current_user,
        secret_key=current_app.config["SECRET_KEY"],
        now=clock.now(),
        note=form.note.data,
    )
    db.session.commit()
    flash(
        f"Erased {erased.erasure.comments} comments: {erased.redacted} kept as "
        f"“{persons.REMOVED_TEXT}”, {erased.deleted} deleted. The decision is recorded below.",
        "success",
    )
    return redirect(url_for("archive.personal_data"), code=303)
