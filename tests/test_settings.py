"""Settings behave as SPEC section 9 says, checked in fresh interpreters."""

import os
import subprocess
import sys
from pathlib import Path

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
        "print(c.get(s.url('play/play.js')).status_code, c.get(s.url('admin/css/base.css')).status_code)"
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
