"""Services that change state take the acting person, and refuse the wrong role."""

from __future__ import annotations

import pytest
from flask import Flask

from discussion.accounts import staff
from discussion.extensions import db
from discussion.models import Moderator, Setting
from discussion.moderation import settings
from tests.helpers import make_publication


def test_only_admins_save_rules(app: Flask, moderator: Moderator, admin: Moderator) -> None:
    with pytest.raises(settings.NotAllowed):
        settings.save({"max_links": 9}, moderator)
    assert db.session.get(Setting, "max_links") is None
    settings.save({"max_links": 9}, admin)
    db.session.commit()
    settings.forget()
    assert settings.current()["max_links"] == 9


def test_only_admins_switch_a_publication(
    app: Flask, moderator: Moderator, admin: Moderator
) -> None:
    publication = make_publication()
    version = publication.cache_version
    with pytest.raises(settings.NotAllowed):
        settings.switch_publication(publication, moderator, comments_open=False, premoderation=True)
    assert publication.comments_open and publication.premoderation is None
    settings.switch_publication(publication, admin, comments_open=False, premoderation=True)
    db.session.commit()
    db.session.refresh(publication)
    assert (publication.comments_open, publication.premoderation) == (False, True)
    assert publication.cache_version > version  # readers' cached pages are renewed


def test_account_activation_rules(app: Flask, moderator: Moderator, admin: Moderator) -> None:
    with pytest.raises(staff.AccountError, match="Only admins"):
        staff.set_active(admin, False, moderator)
    with pytest.raises(staff.AccountError, match="cannot deactivate your own"):
        staff.set_active(admin, False, admin)
    staff.set_active(moderator, False, admin)
    db.session.commit()
    assert staff.authenticate("mod", "correct horse battery") is None
    staff.set_active(moderator, True, admin)
    assert moderator.active
