"""Development: the embedded SQLite database, eager tasks and the sandbox operator by default."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)
COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS = env.bool(
    "COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS", default=True
)
if SANDBOX_ENABLED:
    INSTALLED_APPS = [*INSTALLED_APPS, "apps.sandbox"]  # noqa: F405
