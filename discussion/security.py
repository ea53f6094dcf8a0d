"""Response headers, cookie flags, proxies and malformed input: one place for each."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, Response, abort, request
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


def _set_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _strict_transport(response: Response) -> Response:
    """Served over HTTPS (Secure cookies): browsers should never come back over http."""
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _reject_malformed_forms() -> None:
    """A form body that is not valid UTF-8 is refused with 400, not silently mangled."""
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return
    data = request.get_data(cache=True)
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
    app.before_request(_reject_malformed_forms)
    app.after_request(_set_headers)
