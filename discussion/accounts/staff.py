"""Staff accounts: creation, activation, password checks, loading for Flask-Login."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import Flask
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, login_manager
from ..models import MailPreference, Moderator, Role
from ..web.params import parse_id

# Compared against when the username is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not a real password")
MIN_PASSWORD_LENGTH = 10
PASSWORD_LENGTH = 200  # the most a password field takes (scrypt reads all of it)
USERNAME_LENGTH = Moderator.__table__.c.username.type.length
EMAIL_LENGTH = Moderator.__table__.c.email.type.length
DIGEST_HOURS = (1, 168)  # the shortest and longest digest period a person may choose


class AccountError(ValueError):
    """A refused account change, with a message for the person."""


def staff_email(email: str | None) -> str | None:
    """A member of staff's address, normalised; AccountError when it is not one."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > EMAIL_LENGTH:
        raise AccountError(f"An email address is at most {EMAIL_LENGTH} characters.")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise AccountError(f"That email address is not valid: {error}") from error


def create_moderator(
    username: str, password: str, role: Role = Role.MODERATOR, *, email: str | None = None
) -> Moderator:
    """Create an account (scrypt-hashed password); refuses duplicates and short passwords.
    With an email, the person gets a mail for every held comment (the default)."""
    username = username.strip()
    if not username or len(username) > USERNAME_LENGTH:
        raise AccountError(f"A username is 1 to {USERNAME_LENGTH} characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password is at least {MIN_PASSWORD_LENGTH} characters.")
    if find(username) is not None:
        raise AccountError(f"The username {username!r} is taken.")
    moderator = Moderator(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        email=staff_email(email),
        mail_preference=MailPreference.EACH,
    )
    db.session.add(moderator)
    db.session.flush()
    return moderator


def set_password(person: Moderator, password: str) -> None:
    """Give an account a new password (scrypt-hashed); refuses short ones."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password is at least {MIN_PASSWORD_LENGTH} characters.")
    person.password_hash = generate_password_hash(password)


def set_active(person: Moderator, active: bool, actor: Moderator) -> None:
    """Let an account sign in again, or stop it; an admin cannot deactivate themselves."""
    if not actor.is_admin:
        raise AccountError("Only admins can change accounts.")
    if person.id == actor.id and not active:
        raise AccountError("You cannot deactivate your own account.")
    person.active = active


def set_mail(
    person: Moderator,
    actor: Moderator,
    *,
    email: str | None,
    preference: MailPreference,
    digest_hours: int,
) -> None:
    """Where a person's alerts go and which they get; admins set anyone's, a moderator
    their own."""
    if not (actor.is_admin or actor.id == person.id):
        raise AccountError("Only admins change other people's mail settings.")
    low, high = DIGEST_HOURS
    if not low <= digest_hours <= high:
        raise AccountError(f"A digest comes every {low} to {high} hours.")
    person.email = staff_email(email)
    person.mail_preference = preference
    person.digest_hours = digest_hours


def find(username: str) -> Moderator | None:
    """The account with this username, case-insensitively."""
    return db.session.scalar(
        select(Moderator).where(func.lower(Moderator.username) == username.strip().lower())
    )


def authenticate(username: str, password: str) -> Moderator | None:
    """The active account when the password matches, else None."""
    moderator = find(username)
    if moderator is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(moderator.password_hash, password) or not moderator.active:
        return None
    return moderator


def load_user(user_id: str) -> Moderator | None:
    """Flask-Login: the signed-in moderator from the session."""
    moderator_id = parse_id(user_id)
    return db.session.get(Moderator, moderator_id) if moderator_id is not None else None


def init_app(app: Flask) -> None:
    """Bind Flask-Login and tell it how to load the signed-in moderator."""
    login_manager.init_app(app)
    # Its "session protection" only marks sessions non-fresh (we use no fresh-login checks)
    # or, in "strong" mode, clears them; either way it rewrote every anonymous reader's
    # cookie. Flask keeps the session in a signed cookie: there is no server-side session
    # id to fix, and signing in writes a new cookie anyway.
    login_manager.session_protection = None
    login_manager.user_loader(load_user)
