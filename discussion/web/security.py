"""Response headers, cookie flags, proxies and malformed input: one place for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


_DEFAULTS = [(name.lower(), name, value) for name, value in HEADERS.items()] + [
    ("cache-control", "Cache-Control", "private, no-cache")
]


def _set_headers(response: Response) -> Response:
    """The headers above where the view set none; responses no view marked shareable
    are for this visitor only. (One pass over the response's headers: on every answer.)"""
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    policy = headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    framable = "frame-ancestors 'none'" not in policy
    for key, name, value in _DEFAULTS:
        if key in present or (key == "x-frame-options" and framable):
            continue  # (a page framed by allowed sites says which in its CSP)
        headers.add(name, value)
    return response


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, its signer made once for the app's keys instead of
    anew on every request (it holds nothing of one request)."""

    def __init__(self) -> None:
        self._signer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._signer
        if kept is None or kept[0] != keys:
            kept = self._signer = (keys, super().get_signing_serializer(app))
        return kept[1]


def _strict_transport(response: Response) -> Response:
    """Served over HTTPS (Secure cookies): browsers should never come back over http."""
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _desk_body_limits() -> None:
    """The desk's forms carry long texts and images: they may send more than readers."""
    if request.path.startswith("/desk/"):
        config = current_app.config
        request.max_content_length = config["DESK_MAX_CONTENT_LENGTH"]
        request.max_form_memory_size = config["DESK_MAX_FORM_MEMORY_SIZE"]


def _reject_malformed_forms() -> None:
    """A form body that is not valid UTF-8, or shorter than its Content-Length (the
    client was cut off mid-body; gunicorn hands over what arrived), is refused with
    400, not silently mangled or stored in part."""
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return
    data = request.get_data(cache=True)
    if request.content_length is not None and len(data) < request.content_length:
        abort(400)
    try:
        parse_qsl(
            data.decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=200,
        )
    except (UnicodeDecodeError, ValueError):
        abort(400)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def refuse_cross_origin() -> None:
    """Refuse a request a browser sent from another site to change something here.

    Browsers say where a request comes from in ``Sec-Fetch-Site`` (since 2020-2023) or
    ``Origin`` (on every POST since 2019-2020); pages cannot forge either. A request
    with neither comes from a client that is not a browser, where CSRF does not apply,
    or from a browser too old to send them (Internet Explorer, Firefox before 70): for
    those only the forms' tokens stand, and the comment form's token is not secret. The
    check Go's ``http.CrossOriginProtection`` makes (host and port, as the browser was
    asked for them; behind a proxy, PROXY_COUNT and the proxy's Host header); raised as
    a CSRF error so each form's handler answers it as a bad token (the reader keeps
    their text).
    """
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin and _embeddable() and origin.lower() in embed_origins():
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise CSRFError("The form was sent from another site.")
        return
    origin = request.headers.get("Origin")
    if origin is not None and _host_of(origin) != request.host:
        raise CSRFError("The form was sent from another site.")


EMBEDDABLE = "_open_to_embed_origins"


def open_to_embed_origins(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that pages of ``EMBED_ORIGINS`` may call from their browsers (posting
    a comment, withdrawing one's own): the cross-site check lets those origins through.
    Moderation, the desk and everything unmarked stay same-origin only."""
    setattr(view, EMBEDDABLE, True)
    return view


def _embeddable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, EMBEDDABLE, False))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def embed_origins() -> frozenset[str]:
    """The origins of ``EMBED_ORIGINS`` as browsers send them: ``scheme://host[:port]``,
    in lower case, without a default port (entries that are no origin are ignored)."""
    entries = current_app.config.get("EMBED_ORIGINS") or ()
    if isinstance(entries, str):  # FLASK_EMBED_ORIGINS="https://a.example https://b.example"
        entries = entries.replace(",", " ").split()
    found = set()
    for entry in entries:
        try:
            parts = urlsplit(str(entry).strip().lower())
            port = parts.port
        except ValueError:
            continue
        if parts.scheme in _DEFAULT_PORTS and parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            shown = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
            found.add(f"{parts.scheme}://{host}{shown}")
    return frozenset(found)


def _host_of(origin: str) -> str | None:
    try:
        return urlsplit(origin).netloc
    except ValueError:  # e.g. "http://[": not an origin a browser sends
        return None


def init_app(app: Flask) -> None:
    """Secure cookies unless debugging or testing (or switched off), headers, proxies."""
    secure = app.config.get("SECURE_COOKIES")
    if secure is None:
        secure = not (app.debug or app.testing)
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    if secure:
        app.config.setdefault("PREFERRED_URL_SCHEME", "https")
        app.after_request(_strict_transport)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.session_interface = _SessionCookies()
    app.before_request(_desk_body_limits)
    app.before_request(_reject_malformed_forms)
    app.before_request(refuse_cross_origin)
    app.after_request(_set_headers)
