"""Flask extensions, created unbound and bound to the app in ``create_app``."""

import time
from typing import Any

from flask import current_app
from flask_caching import Cache as _Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from redis.exceptions import RedisError
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations get stable names."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
migrate = Migrate()
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
limiter = Limiter(key_func=get_remote_address)


class Cache(_Cache):
    """Flask-Caching whose shared backend (Redis) may go away: a cache that cannot
    answer is a miss and a write that cannot land is skipped, so the site serves
    without it and uses it again when it is back. After a failure it is not asked for
    a second (a hung Redis costs one timeout a second, not one per call). Said once
    when it goes, once when it returns, not once per request."""

    reachable = True
    retry_at = 0.0

    def init_app(self, app: Any, config: Any = None) -> None:
        if "redis" in str(app.config.get("CACHE_TYPE", "")).lower():
            seconds = app.config["REDIS_TIMEOUT_SECONDS"]
            options = {"socket_timeout": seconds, "socket_connect_timeout": seconds}
            app.config["CACHE_OPTIONS"] = options | (app.config.get("CACHE_OPTIONS") or {})
        super().init_app(app, config)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._quietly(super().get, None, *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._quietly(super().set, False, *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._quietly(super().delete, False, *args, **kwargs)

    def _quietly(self, call: Any, failed: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.reachable and time.monotonic() < self.retry_at:
            return failed
        try:
            answer = call(*args, **kwargs)
        except (OSError, RedisError) as error:
            self.retry_at = time.monotonic() + 1
            if self.reachable:
                self.reachable = False
                current_app.logger.warning("cache unreachable, serving without it: %s", error)
            return failed
        if not self.reachable:
            self.reachable = True
            current_app.logger.warning("cache reachable again")
        return answer


cache = Cache()
mailman = Mail()  # bound by discussion.mail.delivery.init_app
