"""Production: every secret must come from the environment; the sandbox is off by default."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, env

for _required in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
    if not env.str(_required, default=""):
        raise ImproperlyConfigured(f"{_required} must be set in the environment in production")
SECRET_KEY = env.str("SECRET_KEY")
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY")

DEBUG = env.bool("DEBUG", default=False)
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
if SANDBOX_ENABLED:
    INSTALLED_APPS = [*INSTALLED_APPS, "apps.sandbox"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))  # noqa: F405
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files: run `manage.py collectstatic` when deploying.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
