"""Settings shared by every environment; everything variable comes from the environment."""

import re
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-do-not-use-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")


def checked_fernet_keys(value: str) -> str:
    """``FIELD_ENCRYPTION_KEY`` as given, once every comma-separated key in it is a Fernet
    key; otherwise start-up stops here, naming the bad key by position, never by value."""
    keys = value.split(",")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip().encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY: key {number} of {len(keys)} is not a valid Fernet key "
                "(32 url-safe Base64-encoded bytes; comma-separate several to rotate)"
            ) from None
    return value


# Fernet key (32 url-safe Base64 bytes) that encrypts operator secrets at rest.
# The development default is fixed so a local database stays readable across restarts.
FIELD_ENCRYPTION_KEY = checked_fernet_keys(
    env("FIELD_ENCRYPTION_KEY", default="ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=")
)
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
# Development switch: operator URLs may use plain http and loopback or private addresses
# (the sandbox on 127.0.0.1). Off unless set; on in the local and test settings.
COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS = env.bool(
    "COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS", default=False
)

INSTALLED_APPS = [
    "apps.backoffice.admin_site.CopyPoolAdminConfig",  # django.contrib.admin with the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "simple_history",
    "axes",
    "apps.core",
    "apps.operators",
    "apps.streamers",
    "apps.pools",
    "apps.followers",
    "apps.transactions",
    "apps.backoffice",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "apps.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Serves collected static files (admin, the /play/ page) from the web process itself.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a one-time code (the operator portal).
    "django_otp.middleware.OTPMiddleware",
    # Portal sessions expire when idle and after a fixed time (apps.portal.middleware).
    "apps.portal.middleware.PortalSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Clickjacking: no page may be framed (X-Frame-Options for old browsers, frame-ancestors for
# the rest), except the player page, which operators embed (apps.followers.views.play_page).
# Scripts only from this origin: the admin, the player page and the API docs load theirs from
# files; a template that must inline one marks it with ``nonce="{{ csp_nonce }}"``; the one
# inline handler left (django-import-export's "select all" on the export form) is allowed by
# its hash alone. Inline styles stay allowed (Django's admin and the charts use them).
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [
        CSP.SELF,
        CSP.NONCE,
        CSP.UNSAFE_HASHES,
        "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='",  # onSelectToggleChange(event)
    ],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# The player page's policy: the same, but any site may frame it, and it may frame an https
# page itself: a broadcast's video player (``Stream.embed_url``, https only). Nothing else
# loosens: scripts, styles, connections and the rest stay the site's own.
COPYPOOL_PLAY_CSP = {
    **{name: value for name, value in SECURE_CSP.items() if name != "frame-ancestors"},
    "frame-src": ["https:"],
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'copypool.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the demo's web process and background loop share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # psycopg 3 server-side binding: the parameters travel apart from the SQL, so PostgreSQL
    # prepares each statement once per connection and reuses its plan (a saga step's reload
    # took 2-3 ms to plan for 0.4 ms to run). DB_SERVER_SIDE_BINDING=0 turns it off.
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "en-us"
# The player page's languages (``Operator.languages`` picks among these; ``init``'s
# ``language`` chooses one); the back office stays English.
LANGUAGES = [("en", "English"), ("es", "Español"), ("pt", "Português")]
PLAY_DEFAULT_LANGUAGE = "en"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Admin: dates in ISO order with a 24-hour clock (apps/core/formats/en/formats.py).
FORMAT_MODULE_PATH = ["apps.core.formats"]

STATIC_URL = "static/"
# Development and tests serve static files from the apps and static/ (no collectstatic).
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]


def checked_rate(name: str, default: str) -> str:
    """A throttle rate from the environment, ``<requests>/<s|m|h|d>``, checked at start-up."""
    value = env.str(name, default=default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 600/min (requests per s, m, h or d)")
    return value


# The shared cache: rate-limit counts (and anything else cached). Per process by default;
# production wants one shared by every web process, e.g. redis://host:6379/1.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.DecimalJSONParser"],
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
    # Rate limits (apps/core/throttles.py): per operator on the operator API, per follower on
    # the player API. Generous defaults: the demo's background traffic and the test suite
    # stay far below them.
    "DEFAULT_THROTTLE_RATES": {
        "operator": checked_rate("COPYPOOL_OPERATOR_API_RATE", "6000/min"),
        "player": checked_rate("COPYPOOL_PLAYER_API_RATE", "600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CopyPool API",
    "DESCRIPTION": "CopyStake Copy In Pool: the operator API and the player API.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every enum is named for what it is, not for the field that carries it ("StateEnum",
    # "TypeEnum" say nothing): a position's status (``Position.Status.values``, in Position and
    # PositionDetail), a receipt's kind, a lobby pool's state (``Pool.State``, open or closing),
    # a transaction's type and status as transaction-status answers them
    # (``apps.transactions.apis.TRANSACTION_TYPES`` and ``TRANSACTION_STATUSES``) and a track
    # record's window (``statistics.figures.WINDOWS``). Should the values change, the schema
    # test's warning says so. A position's ``leaveReason`` ("" while it has not left) is its own
    # component with the blank as one of its values (``PositionLeaveReasonEnum``), so no
    # nameless ``BlankEnum`` is generated for it.
    "ENUM_NAME_OVERRIDES": {
        "PositionStatusEnum": ["joining", "active", "leaving", "closed", "failed"],
        "ReceiptKindEnum": ["join", "top_up", "leave"],
        "PoolStateEnum": ["open", "closing"],
        "TransactionTypeEnum": ["BET", "DEPOSIT", "WITHDRAWAL", "WIN", "ROLLBACK"],
        "TransactionStatusEnum": ["PENDING", "SUCCEEDED", "FAILED", "UNKNOWN", "ROLLED_BACK"],
        "StatsWindowEnum": ["24h", "7d", "30d", "90d", "all"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.add_error_catalogue",
        "apps.core.schema.name_tags",
    ],
}

# Celery: money work wants at-least-once delivery of idempotent tasks.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Redis redelivers an unacknowledged task after the visibility timeout: keep it above the
# longest countdown we schedule so a delayed retry is not delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# Money flows.
COPYPOOL_GAME_CODE = env("COPYPOOL_GAME_CODE", default="copystake-pool")
COPYPOOL_WIN_REVIEW_AFTER = timedelta(hours=24)
COPYPOOL_INLINE_SAGA_SECONDS = env.float("COPYPOOL_INLINE_SAGA_SECONDS", default=8.0)
# Within a player's request, a retry due this soon is slept through instead of answering 202.
COPYPOOL_INLINE_WAIT_SECONDS = env.float("COPYPOOL_INLINE_WAIT_SECONDS", default=2.0)

# History (apps.pools.rollups, apps.operators.calllog): raw snapshots and the call log are
# kept this many days, then pruned daily; hourly and daily rollups are kept.


def checked_days(name: str, default: int, *, least: int) -> int:
    """A whole number of days from the environment, at least ``least``; start-up stops
    with the variable's name otherwise."""
    raw = env.str(name, default=str(default)).strip()
    if not raw.isdigit() or int(raw) < least:
        raise ImproperlyConfigured(f"{name} must be a whole number of days, at least {least}")
    return int(raw)


COPYPOOL_SNAPSHOT_RETENTION_DAYS = checked_days("COPYPOOL_SNAPSHOT_RETENTION_DAYS", 30, least=1)
COPYPOOL_CALL_LOG_RETENTION_DAYS = checked_days("COPYPOOL_CALL_LOG_RETENTION_DAYS", 30, least=1)
# Statistics (apps.transactions.statistics): a streamer whose record is younger than this is
# "new": shown, not ranked.
COPYPOOL_STATS_NEW_DAYS = checked_days("COPYPOOL_STATS_NEW_DAYS", 7, least=0)
# A reconciliation run reads again, this long apart, the pools that were being priced.
COPYPOOL_RECONCILE_RETRY_WAIT_SECONDS = 0.5

# Failed admin logins are rate limited (django-axes).
# The operator portal (/portal/): sessions end after this long without a request, and in
# any case this long after signing in; invitations go out by e-mail (the console in
# development).
PORTAL_SESSION_IDLE_SECONDS = env.int("COPYPOOL_PORTAL_SESSION_IDLE_SECONDS", default=30 * 60)
PORTAL_SESSION_MAX_SECONDS = env.int("COPYPOOL_PORTAL_SESSION_MAX_SECONDS", default=12 * 3600)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CopyStake <no-reply@copystake.local>")
# The issuer name authenticator apps show beside the portal's codes.
OTP_TOTP_ISSUER = "CopyStake portal"

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A styled page that says how long to wait (apps.core.views.lockout_response).
AXES_LOCKOUT_CALLABLE = "apps.core.views.lockout_response"
# No "AXES: BEGIN version ..." banner on every manage.py call (``--help`` included).
AXES_VERBOSE = False

# Every handler redacts player tokens from URLs in messages (apps/core/logging.py); Django's
# request-line logger (runserver, the demo server) writes through it too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "apps.core.logging.RedactTokensFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
