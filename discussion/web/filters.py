"""Template filters and the few globals the templates need."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask

from . import clock


def long_date(value: date) -> str:
    """USIP's date style: "Tuesday, January 30, 2024"."""
    return f"{value:%A, %B} {value.day}, {value.year}"


def site_date(value: datetime) -> str:
    """A stored time as the day it is in the site's time zone, in USIP's style."""
    return long_date(clock.in_site_zone(value).date())


def site_time(value: datetime) -> str:
    """A stored time in the site's time zone: "January 30, 2024, 3:04 PM EST"."""
    local = clock.in_site_zone(value)
    hour = local.hour % 12 or 12
    return f"{local:%B} {local.day}, {local.year}, {hour}:{local:%M} {local:%p} {local:%Z}"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def comment_time(value: datetime) -> str:
    """ "January 30, 2024, 3:04 PM UTC" (without strftime: twice for each comment shown)."""
    hour = value.hour % 12 or 12
    noon = "AM" if value.hour < 12 else "PM"
    return (
        f"{_MONTHS[value.month - 1]} {value.day}, {value.year}, {hour}:{value.minute:02} {noon} UTC"
    )


def iso_utc(value: datetime) -> str:
    """A datetime attribute value: UTC, to the second ("2024-01-30T15:04:05Z")."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def names(people: list) -> str:
    """ "A", "A and B", "A, B and C"."""
    items = [p.name for p in people]
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]


def init_app(app: Flask) -> None:
    """Register filters."""
    app.add_template_filter(long_date)
    app.add_template_filter(site_date)
    app.add_template_filter(site_time)
    app.add_template_filter(comment_time)
    app.add_template_filter(names)
    app.add_template_filter(iso_utc)
    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]
