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
# Reconciliation re-reads pools priced during its read at once (no half-second waits).
COPYPOOL_RECONCILE_RETRY_WAIT_SECONDS = 0
# Live-server threads must not keep database sessions open past a test (PostgreSQL could
# not drop the test database at teardown).
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Tests never use the developer's broker (a CELERY_BROKER_URL exported for a local worker, as
# the README's deployment section says): tasks run eagerly, except in the worker subprocesses
# the broker tests start on a Redis of their own (tests/broker: COPYPOOL_TEST_CELERY_BROKER_URL).
# Celery itself prefers the CELERY_BROKER_URL environment variable to any configuration, so
# it is dropped from this process's environment, not only from the settings.
os.environ.pop("CELERY_BROKER_URL", None)
CELERY_BROKER_URL = env("COPYPOOL_TEST_CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
