"""Old addresses of imported publications: a request for one answers 301."""

from __future__ import annotations

import re

from sqlalchemy import select

from ..extensions import db
from ..models import LegacyAddress, Publication
from ..publications.catalog import public
from ..web.params import CONTROL_CHARACTERS
from .importing import normal_path

_KEPT_QUERY = re.compile(r"(p|page_id)=\d+")


def moved_to(path: str, query: str) -> str | None:
    """The slug of the public publication that lived at this old address, if any."""
    if len(path) > LegacyAddress.__table__.c.path.type.length or CONTROL_CHARACTERS.search(
        path + query
    ):
        return None  # no stored address has them (and PostgreSQL refuses a NUL)
    wanted = [normal_path(path)]
    for part in query.split("&"):
        if _KEPT_QUERY.fullmatch(part):  # WordPress's plain links: /?p=123
            wanted.insert(0, normal_path(f"{path}?{part}"))
    for candidate in wanted:
        if candidate == "/":
            continue
        slug = db.session.scalar(
            select(Publication.slug)
            .join(LegacyAddress, LegacyAddress.publication_id == Publication.id)
            .where(LegacyAddress.path == candidate, public())
        )
        if slug is not None:
            return slug
    return None
