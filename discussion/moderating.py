"""Moderator screens: the queues, decisions (single and bulk), rules, publications, accounts."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from . import accounts, moderation, publications, rules, settings
from .auth import admin_required, safe_next
from .extensions import db
from .forms import AccountForm, ActionForm, PublicationRulesForm, RulesForm
from .models import Comment, CommentState, Moderator, Publication, Role
from .pages import parse_id, without_control_characters

bp = Blueprint("moderating", __name__, url_prefix="/moderation")


@bp.before_request
@login_required
def require_login() -> None:
    """Every moderation screen needs a signed-in moderator."""


@bp.app_context_processor
def moderator_navigation() -> dict[str, Any]:
    """The pending count in the moderator's navigation (only for the signed in)."""
    if current_user.is_authenticated:
        pending = g.get("pending_count")  # the queue may have counted it already
        return {"pending_count": moderation.pending_count() if pending is None else pending}
    return {}


def _queue_query() -> moderation.QueueQuery:
    status = request.args.get("status", "pending")
    if status not in moderation.QUEUES:
        abort(404)
    publication = request.args.get("publication", "")
    publication_id = parse_id(publication)
    if publication and publication_id is None:
        abort(404)
    return moderation.QueueQuery(
        status=status,
        publication_id=publication_id,
        search=without_control_characters(request.args.get("q", "")).strip()[:200],
        newest_first=request.args.get("order", "newest") != "oldest",
    )


@bp.get("/")
def queue() -> str:
    query = _queue_query()
    after = request.args.get("after", "")
    after_id = parse_id(after)
    if after and after_id is None:
        abort(404)
    page = moderation.queue_page(
        query,
        after=after_id,
        limit=current_app.config["MODERATION_QUEUE_PAGE_SIZE"],
    )
    ids = [c.id for c in page.comments]
    rule_settings = settings.rule_settings()
    decisions = moderation.decisions(ids)
    counts = moderation.counts(query)
    if query.publication_id is None and not query.search:
        g.pending_count = counts["pending"]
    return render_template(
        "moderation/queue.html",
        query=query,
        page=page,
        counts=counts,
        history=moderation.author_history(c.email for c in page.comments),
        decisions=decisions,
        undoable={i for i, ds in decisions.items() if any(d.from_state != d.to_state for d in ds)},
        reports=moderation.open_reports(ids),
        highlighted={c.id: _highlight(c, rule_settings) for c in page.comments},
        publications=moderation.busiest_publications(query),
        action_form=ActionForm(),
        reasons=moderation.REJECT_REASONS,
        report_reasons=moderation.REPORT_REASONS,
        rule_labels=rules.RULES,
        here=request.full_path.rstrip("?"),
    )


def _highlight(comment: Comment, rule_settings: rules.RuleSettings) -> Markup:
    """The raw text, escaped, with what held it marked."""
    held = {h.rule for h in comment.holds}
    spans: list[tuple[int, int]] = []
    words = [
        m for h in comment.holds if h.rule in ("suspect_words", "banned_words") for m in h.matches
    ]
    if words:
        spans += rules.find_words(comment.body_text, words)
    if "links" in held:
        spans += [
            (a, b)
            for a, b, _ in rules.untrusted_links(comment.body_text, rule_settings.trusted_domains)
        ]
    return rules.highlight(comment.body_text, spans)


def _back(default: str | None = None) -> Response:
    target = safe_next(request.form.get("next"), default or url_for("moderating.queue"))
    if not target.startswith("/moderation/"):
        target = url_for("moderating.queue")
    return redirect(target, code=303)


@bp.post("/comments/<id:comment_id>/<any(approve, reject, spam, restore):action>")
def act(comment_id: int, action: str) -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        flash("That action could not be applied: " + _form_problem(form), "error")
        return _back()
    seen = request.form.get("seen", "")
    try:
        moderation.act(
            comment_id,
            action,
            current_user,
            reason=form.reason.data or None,
            note=form.note.data,
            seen=CommentState(seen) if seen in {s.value for s in CommentState} else None,
        )
    except moderation.Conflict as conflict:
        flash(str(conflict), "error")
    else:
        db.session.commit()
        flash(_done(action, [comment_id]), "success")
    return _back()


@bp.post("/comments/<id:comment_id>/undo")
def undo(comment_id: int) -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        flash("That action could not be applied: " + _form_problem(form), "error")
        return _back()
    try:
        decision = moderation.undo(comment_id, current_user)
    except moderation.Conflict as conflict:
        flash(str(conflict), "error")
    else:
        db.session.commit()
        flash(f"Undone: comment #{comment_id} is {decision.to_state} again.", "success")
    return _back()


@bp.post("/bulk")
def bulk() -> Response:
    form = ActionForm()
    action = request.form.get("action", "")
    if action not in moderation.ACTIONS:
        flash("Choose an action for the selected comments.", "error")
        return _back()
    if not form.validate_on_submit():
        flash("That action could not be applied: " + _form_problem(form), "error")
        return _back()
    field = "page_ids" if request.form.get("scope") == "page" else "ids"
    ids = [i for i in map(parse_id, request.form.getlist(field)) if i is not None][:500]
    if not ids:
        flash("Select at least one comment first.", "error")
        return _back()
    result = moderation.act_on_many(ids, action, current_user, reason=form.reason.data or None)
    db.session.commit()
    message = _done(action, result.done)
    if result.skipped:
        message += f" {len(result.skipped)} skipped: they had changed since the page loaded."
    flash(message, "success" if result.done else "error")
    return _back()


def _done(action: str, ids: list[int]) -> str:
    verb = {
        "approve": "Approved",
        "reject": "Rejected",
        "spam": "Marked as spam",
        "restore": "Restored to pending",
    }[action]
    return f"{verb}: {len(ids)} comment{'s' if len(ids) != 1 else ''}."


def _form_problem(form: ActionForm) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


@bp.errorhandler(CSRFError)
def csrf_refused(_error: CSRFError) -> Response:
    """An expired or missing token: back to the queue with a word, nothing changed."""
    flash("Nothing was changed: the page had expired. Please try again.", "error")
    return redirect(url_for("moderating.queue"), code=303)


# --- admin ---------------------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
@admin_required
def rules_page() -> Any:
    values = settings.current()
    form = RulesForm(
        data={
            **values,
            **{
                k: "\n".join(values[k])
                for k in ("trusted_domains", "suspect_words", "banned_words")
            },
        }
    )
    if form.validate_on_submit():
        settings.save(
            {
                "premoderation": form.premoderation.data,
                "auto_approve_known_authors": form.auto_approve_known_authors.data,
                "max_links": form.max_links.data,
                "trusted_domains": list(rules.parse_list(form.trusted_domains.data or "")),
                "suspect_words": list(rules.parse_list(form.suspect_words.data or "")),
                "banned_words": list(rules.parse_list(form.banned_words.data or "")),
                "close_after_days": form.close_after_days.data,
                "moderate_after_days": form.moderate_after_days.data,
                "reports_to_hide": form.reports_to_hide.data,
            }
        )
        db.session.commit()
        settings.forget()
        flash("The moderation rules are saved.", "success")
        return redirect(url_for("moderating.rules_page"), code=303)
    status = 400 if form.errors else 200
    return render_template(
        "moderation/rules.html", form=form, figures=moderation.rule_figures()
    ), status


@bp.route("/publications", methods=["GET", "POST"])
@admin_required
def publications_page() -> Any:
    if request.method == "POST":
        publication_id = parse_id(request.form.get("publication_id"))
        publication = db.session.get(Publication, publication_id) if publication_id else None
        if publication is None:
            abort(404)
        form = PublicationRulesForm()
        if form.validate_on_submit():
            publication.comments_open = form.comments_open.data
            publication.premoderation = {"on": True, "off": False}.get(form.premoderation.data)
            publications.touch([publication.id])
            db.session.commit()
            flash(f"Saved: {publication.title}.", "success")
        else:
            flash("Not saved: " + _form_problem(form), "error")  # type: ignore[arg-type]
        return redirect(url_for("moderating.publications_page"), code=303)
    items = db.session.scalars(
        select(Publication).order_by(Publication.published.desc(), Publication.id.desc())
    ).all()
    forms = {
        p.id: PublicationRulesForm(
            formdata=None,
            comments_open=p.comments_open,
            premoderation={True: "on", False: "off"}.get(p.premoderation, ""),
        )
        for p in items
    }
    return render_template("moderation/publications.html", publications=items, forms=forms)


@bp.route("/accounts", methods=["GET", "POST"])
@admin_required
def accounts_page() -> Any:
    form = AccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.create_moderator(
                form.username.data or "", form.password.data or "", Role(form.role.data)
            )
        except accounts.AccountError as error:
            form.username.errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            flash(f"Account {form.username.data} created.", "success")
            return redirect(url_for("moderating.accounts_page"), code=303)
    elif form.errors:
        status = 400
    people = db.session.scalars(select(Moderator).order_by(Moderator.username)).all()
    return render_template(
        "moderation/accounts.html", form=form, people=people, action_form=ActionForm()
    ), status


@bp.post("/accounts/<id:moderator_id>/<any(activate, deactivate):change>")
@admin_required
def account_switch(moderator_id: int, change: str) -> Response:
    form = ActionForm()
    person = db.get_or_404(Moderator, moderator_id)
    if not form.validate_on_submit():
        flash("Not changed: " + _form_problem(form), "error")
    elif person.id == current_user.id:
        flash("You cannot deactivate your own account.", "error")
    else:
        person.active = change == "activate"
        db.session.commit()
        flash(f"{person.username} is {'active' if person.active else 'deactivated'}.", "success")
    return redirect(url_for("moderating.accounts_page"), code=303)
