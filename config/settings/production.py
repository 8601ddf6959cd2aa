"""Production: every secret must come from the environment; the sandbox is off."""

import environ
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import env

for _required in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
    try:
        globals()[_required] = env.str(_required)
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(f"{_required} must be set in production") from error
    except environ.ImproperlyConfigured as error:  # pragma: no cover - older environ
        raise ImproperlyConfigured(f"{_required} must be set in production") from error

DEBUG = False
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
if SANDBOX_ENABLED:
    INSTALLED_APPS = [*INSTALLED_APPS, "apps.sandbox"]  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
