"""Settings behave as SPEC section 9 says, checked in fresh interpreters."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FERNET = "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc="


def run_settings(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEY",
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "SANDBOX_ENABLED",
        }
    }
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.SANDBOX_ENABLED)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_settings("config.settings.production", FIELD_ENCRYPTION_KEY=FERNET)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_field_encryption_key():
    result = run_settings("config.settings.production", SECRET_KEY="x" * 50)
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEY must be set" in result.stderr


def test_production_starts_with_both_and_keeps_the_sandbox_off():
    result = run_settings(
        "config.settings.production",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEY=FERNET,
        DATABASE_URL="postgres://u@127.0.0.1:5432/db",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False", "False"]


def test_no_environment_means_sqlite_eager_tasks_and_the_sandbox():
    result = run_settings("config.settings.local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "True"]


def test_production_serves_collected_static_files(tmp_path):
    """With DEBUG off, the admin's and the play page's assets come from whitenoise."""
    env = {
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEY": FERNET,
        "STATIC_ROOT_OVERRIDE": str(tmp_path),
    }
    code = (
        "import django, os; from django.conf import settings; "
        "settings.STATIC_ROOT = os.environ['STATIC_ROOT_OVERRIDE']; django.setup(); "
        "from django.core.management import call_command; call_command('collectstatic', '--noinput', verbosity=0); "
        "from django.test import Client; c = Client(); "
        "from django.contrib.staticfiles.storage import staticfiles_storage as s; "
        "print(c.get(s.url('play/play.js'), secure=True).status_code, "
        "c.get(s.url('admin/css/base.css'), secure=True).status_code)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    clean.update(
        env, DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="testserver"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["200", "200"]


def production_env(**extra: str) -> dict[str, str]:
    """What production requires, with a strong random SECRET_KEY (``check --deploy`` judges it)."""
    import secrets

    return {
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": FERNET,
        "ALLOWED_HOSTS": "copypool.example",
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
        **extra,
    }


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Not the test run's own switches (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which
    # check --deploy rightly warns about): production has none of them.
    dropped = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.production")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_check_deploy_finds_nothing_to_warn_about_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_transport_security_comes_from_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )

    def read(**env: str) -> list[str]:
        clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        clean.update(production_env(**env), DJANGO_SETTINGS_MODULE="config.settings.production")
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.split()

    # safe defaults: HTTPS only, HSTS for a year on every subdomain, cookies only over HTTPS
    assert read() == ["True", "31536000", "True", "True", "True", "True"]
    # each can be turned down (a staging host behind plain HTTP, a first HSTS rollout)
    assert read(
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="300",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    ) == ["False", "300", "False", "False", "False", "False"]


OTHER_FERNET = "c2Vjb25kLWZpZWxkLWtleS0zMi1ieXRlcy1sb25nISE="


@pytest.mark.parametrize("module", ["config.settings.local", "config.settings.production"])
@pytest.mark.parametrize(
    "keys, which",
    [
        ("not-a-fernet-key", "key 1 of 1"),
        (FERNET[:-4], "key 1 of 1"),  # too short
        (f"{FERNET},{FERNET[:-1]}!", "key 2 of 2"),  # the second, kept for rotation, is bad
        (f"{FERNET},,{OTHER_FERNET}", "key 2 of 3"),  # an empty entry
        (" , ", "key 1 of 2"),
    ],
)
def test_a_malformed_field_encryption_key_refuses_to_start(module, keys, which):
    result = run_settings(module, SECRET_KEY="x" * 50, FIELD_ENCRYPTION_KEY=keys)
    assert result.returncode != 0
    assert f"FIELD_ENCRYPTION_KEY: {which} is not a valid Fernet key" in result.stderr
    # the message never echoes the key material
    assert FERNET[:-4] not in result.stderr


def test_several_valid_field_encryption_keys_start():
    result = run_settings("config.settings.local", FIELD_ENCRYPTION_KEY=f"{FERNET}, {OTHER_FERNET}")
    assert result.returncode == 0, result.stderr


def test_the_tests_never_use_a_broker_exported_for_a_local_worker():
    # given: the README's deployment section exported for a local worker
    env = {**os.environ, "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    env.pop("COPYPOOL_TEST_CELERY_BROKER_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from config.celery import app; "
        "print(settings.CELERY_TASK_ALWAYS_EAGER, repr(app.conf.broker_url), app.conf.task_always_eager)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # then: tasks run eagerly and Celery has no broker of the developer's (it would prefer the
    # environment variable to any setting)
    assert result.stdout.split() == ["True", "''", "True"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COPYPOOL_SNAPSHOT_RETENTION_DAYS", "0"),
        ("COPYPOOL_CALL_LOG_RETENTION_DAYS", "-3"),
        ("COPYPOOL_STATS_NEW_DAYS", "seven"),
    ],
)
def test_a_bad_retention_or_new_record_setting_refuses_to_start(name, value):
    result = run_settings("config.settings.local", **{name: value})
    assert result.returncode != 0
    assert f"{name} must be a whole number of days" in result.stderr


def test_retention_settings_come_from_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.COPYPOOL_SNAPSHOT_RETENTION_DAYS, s.COPYPOOL_CALL_LOG_RETENTION_DAYS, "
        "s.COPYPOOL_STATS_NEW_DAYS)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env.update(COPYPOOL_SNAPSHOT_RETENTION_DAYS="45", COPYPOOL_STATS_NEW_DAYS="0")
    env.pop("COPYPOOL_CALL_LOG_RETENTION_DAYS", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["45", "30", "0"], result.stderr
