"""The framework ceiling: a minimal Flask app returning a fixed page of a given size.

GET /<size> answers ``size`` bytes of HTML, prepared once. Served by bench/run.py under
gunicorn with the same settings as the app.
"""

from flask import Flask, Response

app = Flask(__name__)
_pages: dict[int, bytes] = {}


@app.get("/<int:size>")
def page(size: int) -> Response:
    body = _pages.get(size)
    if body is None:
        body = _pages.setdefault(size, b"<!doctype html><p>" + b"x" * max(size - 18, 0))
    return Response(body, mimetype="text/html")
