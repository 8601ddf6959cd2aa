"""Tests: PostgreSQL when DATABASE_URL is set (CI), else SQLite; sandbox mounted."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, env

DEBUG = False
SANDBOX_ENABLED = True
INSTALLED_APPS = [*INSTALLED_APPS, "apps.sandbox"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # In memory, one database per test process (Django's default for SQLite tests).
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
AXES_ENABLED = env.bool("AXES_ENABLED", default=False)
COPYPOOL_INLINE_SAGA_SECONDS = 5.0
