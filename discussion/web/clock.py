"""The time: now (one function tests can move), and the site's time zone for what
editors type and readers see. Stored times are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(UTC)


def site_zone() -> ZoneInfo:
    """The site's time zone (``SITE_TIMEZONE``, an IANA name such as "America/New_York")."""
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


def in_site_zone(value: datetime) -> datetime:
    """A stored (UTC) time as the site's readers and editors see it."""
    return value.astimezone(site_zone())


def from_site_zone(value: datetime) -> datetime:
    """A naive date and time typed in the site's time zone, as UTC."""
    return value.replace(tzinfo=site_zone()).astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """Midnight of a day in the site's time zone, as UTC."""
    return from_site_zone(datetime.combine(day, time(0)))
