"""Moderator screens: the queues, decisions (single and bulk), rules, publication switches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..accounts.access import admin_required
from ..comments import rules
from ..extensions import db
from ..models import Comment, CommentState, Publication, SanctionAction, SanctionKind, Topic
from ..publications.catalog import NEWEST_FIRST
from ..web import clock
from ..web.params import parse_id, safe_next, without_control_characters
from . import (
    decisions,
    dryrun,
    health,
    queue,
    reports,
    sanctions,
    settings,
    spamscore,
    topics,
)
from .actions import NOTE_LENGTH, REJECT_REASONS, Action
from .forms import (
    ActionForm,
    NoteForm,
    PublicationRulesForm,
    RulesForm,
    SanctionForm,
    TopicRuleForm,
)

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

SEARCH_LENGTH = 200  # characters of a queue search that count
FIGURE_DAYS = timedelta(days=30)  # the spam score's figures on the Rules page
EXPIRED = "Nothing was changed: the page had expired. Please try again."


@bp.before_request
@login_required
def require_login() -> None:
    """Every moderation screen needs a signed-in moderator or admin (an editor gets 403)."""
    if not current_user.can_moderate:
        abort(403)


@bp.app_context_processor
def moderator_navigation() -> dict[str, Any]:
    """The pending count in the moderator's navigation (only for the signed in)."""
    if current_user.is_authenticated and current_user.can_moderate:
        pending = g.get("pending_count")  # the queue may have counted it already
        return {"pending_count": queue.pending_count() if pending is None else pending}
    return {}


def _queue_query(args: MultiDict[str, str] | None = None) -> queue.QueueQuery:
    """What the moderator is looking at, from the query string (404 for nonsense)."""
    query = _parse_query(request.args if args is None else args)
    if query is None:
        abort(404)
    return query


def _parse_query(args: MultiDict[str, str]) -> queue.QueueQuery | None:
    status = args.get("status", "pending")
    publication = args.get("publication", "")
    publication_id = parse_id(publication)
    if status not in queue.QUEUES or (publication and publication_id is None):
        return None
    return queue.QueueQuery(
        status=status,
        publication_id=publication_id,
        search=without_control_characters(args.get("q", "")).strip()[:SEARCH_LENGTH],
        newest_first=args.get("order", "newest") != "oldest",
    )


def _wants_json() -> bool:
    """The queue's script asks for JSON (Accept); a plain form post gets a redirect."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.get("/", endpoint="queue")
def queue_page() -> str:
    query = _queue_query()
    after = request.args.get("after", "")
    after_id = parse_id(after)
    if after and after_id is None:
        abort(404)
    found = queue.matches(query)
    page = queue.queue_page(
        query,
        after=after_id,
        limit=current_app.config["MODERATION_QUEUE_PAGE_SIZE"],
        found=found,
    )
    ids = [c.id for c in page.comments]
    rule_settings = settings.rule_settings()
    history = decisions.history(ids)
    counts = queue.counts(query, found)
    if query.publication_id is None and not query.search:
        g.pending_count = counts["pending"]
    return render_template(
        "moderation/queue.html",
        query=query,
        page=page,
        counts=counts,
        history=queue.author_history(c.email for c in page.comments),
        decisions=history,
        actions={c.id: decisions.allowed_actions(c) for c in page.comments},
        undoable={i for i, ds in history.items() if decisions.can_undo(ds)},
        bulk_actions=[a for a in Action if not a.needs_reports],
        keyed_actions=[a for a in Action if a.key and not a.needs_reports],
        reports=reports.open_reports(ids),
        highlighted={c.id: _highlight(c, rule_settings) for c in page.comments},
        describe=sanctions.describe,
        scores=spamscore.stored(ids),
        spam_learned=spamscore.decisions_learned(),
        spam_needed=current_app.config["MODERATION_SPAM_MIN_DECISIONS"],
        on_record=sanctions.on_record(page.comments, current_app.config["SECRET_KEY"], clock.now()),
        publications=queue.busiest_publications(query),
        action_form=ActionForm(),
        reasons=REJECT_REASONS,
        report_reasons=reports.REPORT_REASONS,
        rule_labels=rules.RULES,
        note_length=NOTE_LENGTH,
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


def _next_url() -> str:
    queue_url = url_for("moderation.queue")
    target = safe_next(request.form.get("next"), queue_url)
    return target if target.startswith("/moderation/") else queue_url


def _back() -> Response:
    return redirect(_next_url(), code=303)


def _answer(message: str, *, ok: bool, status: int = 409, **extra: Any) -> Response:
    """The outcome of one decision: JSON for the queue's script (with the tab counts of
    the queue it came from), else a notice and the redirect back, as a form expects."""
    if not _wants_json():
        flash(message, "success" if ok else "error")
        return _back()
    query = _parse_query(MultiDict(parse_qsl(urlsplit(_next_url()).query))) or queue.QueueQuery()
    body = {"ok": ok, "message": message, "counts": queue.counts(query), **extra}
    response = jsonify(body)
    response.status_code = 200 if ok else status
    return response


def _done(action: Action, ids: list[int]) -> str:
    return f"{action.done}: {len(ids)} comment{'s' if len(ids) != 1 else ''}."


ACTION_NAMES = ", ".join(a.value for a in Action)


@bp.post(f"/comments/<id:comment_id>/<any({ACTION_NAMES}):name>")
def act(comment_id: int, name: str) -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        return _answer("That action could not be applied: " + form.problem(), ok=False, status=400)
    seen = request.form.get("seen", "")
    try:
        decision = decisions.act(
            comment_id,
            name,
            current_user,
            reason=form.reason.data or None,
            note=form.note.data,
            seen=CommentState(seen) if seen in {s.value for s in CommentState} else None,
        )
    except decisions.Conflict as conflict:
        return _answer(str(conflict), ok=False)
    state = decision.to_state.value
    db.session.commit()
    return _answer(
        _done(decisions.resolve(name, decision.from_state), [comment_id]),
        ok=True,
        comment_id=comment_id,
        state=state,
        undo=url_for("moderation.undo", comment_id=comment_id),
    )


@bp.post("/comments/<id:comment_id>/undo")
def undo(comment_id: int) -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        return _answer("That action could not be applied: " + form.problem(), ok=False, status=400)
    try:
        decision = decisions.undo(comment_id, current_user)
    except decisions.Conflict as conflict:
        return _answer(str(conflict), ok=False)
    state = decision.to_state.value
    db.session.commit()
    return _answer(
        f"Undone: comment #{comment_id} is {state} again.",
        ok=True,
        comment_id=comment_id,
        state=state,
    )


@bp.post("/bulk")
def bulk() -> Response:
    form = ActionForm()
    name = request.form.get("action", "")
    if name not in {a.value for a in Action if not a.needs_reports}:
        flash("Choose an action for the selected comments.", "error")
        return _back()
    if not form.validate_on_submit():
        flash("That action could not be applied: " + form.problem(), "error")
        return _back()
    field = "page_ids" if request.form.get("scope") == "page" else "ids"
    ids = [i for i in map(parse_id, request.form.getlist(field)) if i is not None]
    if not ids:
        flash("Select at least one comment first.", "error")
        return _back()
    result = decisions.act_on_many(ids, name, current_user, reason=form.reason.data or None)
    db.session.commit()
    message = _done(Action(name), result.done)
    if result.skipped:
        message += f" {len(result.skipped)} skipped: they had changed since the page loaded."
    flash(message, "success" if result.done else "error")
    return _back()


@bp.get("/health")
def health_page() -> str:
    figures = health.health(clock.now())
    days = [f"{d:%b} {d.day}" for d in figures.days]
    weeks = [f"{w:%b} {w.day}" for w in figures.weeks]
    charts = {
        "wait": health.bar_chart(days, [("median", figures.median_minutes)], "minutes"),
        "moderators": health.bar_chart(
            days, [(m, list(v)) for m, v in figures.per_moderator.items()], "decisions"
        ),
        "rules": {
            label: health.bar_chart(
                weeks,
                [
                    ("later approved", [w.approved for w in rows]),
                    ("not approved", [w.held - w.approved for w in rows]),
                ],
                "held",
            )
            for label, rows in figures.rules.items()
        },
    }
    return render_template("moderation/health.html", figures=figures, charts=charts)


# --- sanctions and notes on authors ------------------------------------------------------


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    return comment


@bp.post("/comments/<id:comment_id>/sanction")
def sanction(comment_id: int) -> Response:
    comment = _comment_or_404(comment_id)
    form = SanctionForm()
    if not form.validate_on_submit():
        flash("Not done: " + " ".join(e for es in form.errors.values() for e in es), "error")
        return _back()
    try:
        made = sanctions.impose(
            comment,
            SanctionKind(form.kind.data),
            SanctionAction(form.action.data),
            form.duration.data or "",
            current_user,
            secret=current_app.config["SECRET_KEY"],
            now=clock.now(),
        )
    except sanctions.NotPossible as refusal:
        flash(str(refusal), "error")
        return _back()
    db.session.commit()
    flash(f"{sanctions.describe(made)}. Lift it on the author's panel.", "success")
    return _back()


@bp.post("/sanctions/<id:sanction_id>/lift")
def lift_sanction(sanction_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "error")
        return _back()
    try:
        lifted = sanctions.lift(sanction_id, current_user, now=clock.now())
    except sanctions.NotPossible as refusal:
        flash(str(refusal), "error")
        return _back()
    db.session.commit()
    flash(f"Lifted: sanction #{lifted.id}.", "success")
    return _back()


@bp.post("/comments/<id:comment_id>/note")
def note(comment_id: int) -> Response:
    comment = _comment_or_404(comment_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash("Note not saved: " + " ".join(e for es in form.errors.values() for e in es), "error")
        return _back()
    try:
        sanctions.add_note(
            comment, form.text.data or "", current_user, secret=current_app.config["SECRET_KEY"]
        )
    except sanctions.NotPossible as refusal:
        flash(str(refusal), "error")
        return _back()
    db.session.commit()
    flash("The note on this author is saved.", "success")
    return _back()


@bp.get("/comments/<id:comment_id>/author")
def author_panel(comment_id: int) -> str:
    comment = _comment_or_404(comment_id)
    found = sanctions.panel(comment, current_app.config["SECRET_KEY"])
    return render_template(
        "moderation/author.html",
        comment=comment,
        panel=found,
        now=clock.now(),
        describe=sanctions.describe,
        sanction_form=SanctionForm(formdata=None),
        note_form=NoteForm(formdata=None),
        action_form=ActionForm(),
        here=request.full_path.rstrip("?"),
    )


@bp.errorhandler(CSRFError)
def csrf_refused(_error: CSRFError) -> Response:
    """An expired or missing token: back to the queue with a word, nothing changed (the
    queue's script gets the word as JSON, and reloads)."""
    if _wants_json():
        response = jsonify({"ok": False, "message": EXPIRED, "expired": True})
        response.status_code = 400
        return response
    flash(EXPIRED, "error")
    return redirect(url_for("moderation.queue"), code=303)


# --- admin ---------------------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
@admin_required
def rules_page() -> Any:
    form = RulesForm.showing(settings.current())
    preview = None
    if form.validate_on_submit() and "preview" in request.form:
        preview = dryrun.dry_run(
            settings.rule_settings(),
            settings.rule_settings(form.values()),
            clock.now() - FIGURE_DAYS,
        )
    elif form.validate_on_submit():
        settings.save(form.values(), current_user)
        db.session.commit()
        settings.forget()
        flash("The moderation rules are saved.", "success")
        return redirect(url_for("moderation.rules_page"), code=303)
    status = 400 if form.errors else 200
    spam = settings.spam_settings()
    threshold = spam.hold_at or spam.send_at or 50
    return render_template(
        "moderation/rules.html",
        form=form,
        preview=preview,
        figures=settings.rule_figures(),
        spam={
            "min_decisions": spam.min_decisions,
            "learned": spamscore.decisions_learned(),
            "figures": spamscore.figures(clock.now() - FIGURE_DAYS, threshold),
        },
    ), status


@bp.route("/topics", methods=["GET", "POST"])
@admin_required
def topics_page() -> Any:
    if request.method == "POST":
        topic = db.session.get(Topic, parse_id(request.form.get("topic_id")) or 0)
        if topic is None:
            abort(404)
        form = TopicRuleForm()
        if form.validate_on_submit():
            topics.save(topic, current_user, hold_all=form.hold_all.data, suspect_words=form.words)
            db.session.commit()
            flash(f"Saved: the rules for {topic.name}.", "success")
        else:
            flash("Not saved: " + " ".join(e for es in form.errors.values() for e in es), "error")
        return redirect(url_for("moderation.topics_page", _anchor=f"topic-{topic.id}"), code=303)
    found = topics.all_rules()
    forms = {
        t.id: TopicRuleForm(
            formdata=None,
            hold_all=bool(r and r.hold_all),
            suspect_words="\n".join(r.suspect_words) if r else "",
        )
        for t, r in found
    }
    return render_template("moderation/topics.html", topics=found, forms=forms)


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
            settings.switch_publication(
                publication,
                current_user,
                comments_open=form.comments_open.data,
                premoderation=form.premoderation_value,
            )
            db.session.commit()
            flash(f"Saved: {publication.title}.", "success")
        else:
            flash("Not saved: " + " ".join(e for es in form.errors.values() for e in es), "error")
        return redirect(url_for("moderation.publications_page"), code=303)
    items = db.session.scalars(select(Publication).order_by(*NEWEST_FIRST)).all()
    forms = {p.id: PublicationRulesForm.showing(p.comments_open, p.premoderation) for p in items}
    return render_template("moderation/publications.html", publications=items, forms=forms)
