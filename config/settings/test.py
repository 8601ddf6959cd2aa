"""Tests: PostgreSQL when DATABASE_URL is set (CI), else SQLite; sandbox mounted."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, env

DEBUG = False
SANDBOX_ENABLED = True
COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS = True  # the sandbox and fakes on 127.0.0.1, over http
INSTALLED_APPS = [*INSTALLED_APPS, "apps.sandbox"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file per test process: live-server threads get connections of their own (an
    # in-memory database would share one), and parallel runs never collide.
    VAR_DIR.mkdir(exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
AXES_ENABLED = env.bool("AXES_ENABLED", default=False)
COPYPOOL_INLINE_SAGA_SECONDS = 5.0
# Live-server threads must not keep database sessions open past a test (PostgreSQL could
# not drop the test database at teardown).
DATABASES["default"]["CONN_MAX_AGE"] = 0
