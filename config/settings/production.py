"""Production: every secret must come from the environment; the sandbox is off by default."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, checked_fernet_keys, env

for _required in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
    if not env.str(_required, default=""):
        raise ImproperlyConfigured(f"{_required} must be set in the environment in production")
SECRET_KEY = env.str("SECRET_KEY")
FIELD_ENCRYPTION_KEY = checked_fernet_keys(env.str("FIELD_ENCRYPTION_KEY"))

DEBUG = env.bool("DEBUG", default=False)
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
if SANDBOX_ENABLED:
    INSTALLED_APPS = [*INSTALLED_APPS, "apps.sandbox"]
# Operator URLs: https to public hosts only (apps/operators/validators.py).
COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS = env.bool(
    "COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS", default=False
)
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))  # noqa: F405
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files: run `manage.py collectstatic` when deploying.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# HTTPS only. The proxy in front terminates TLS and must set X-Forwarded-Proto (and strip it
# from clients). Each switch can be turned down from the environment, e.g. for a staging host
# on plain HTTP or a first HSTS rollout with a short max-age; the defaults are what
# `manage.py check --deploy` asks for.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Paths answered over plain HTTP too (regular expressions without the leading slash), e.g. a
# load balancer's health check.
SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
