import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from uppka.env import env_bool, env_list

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "UPPKA_ENV_FILE", "DATABASE_URL", "ADMINS", "EMAIL_HOST"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


@pytest.mark.parametrize("text, expected", [("1", True), ("true", True), ("Yes", True), ("0", False), ("off", False)])
def test_env_bool_reads_common_words(monkeypatch, text, expected):
    monkeypatch.setenv("FLAG", text)
    assert env_bool("FLAG") is expected


def test_env_bool_refuses_a_typo_instead_of_guessing(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ValueError, match="FLAG"):
        env_bool("FLAG")


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.go.id, b.go.id ,,")
    assert env_list("HOSTS", ["x"]) == ["a.go.id", "b.go.id"]
    monkeypatch.delenv("HOSTS")
    assert env_list("HOSTS", ["x"]) == ["x"]


def test_production_refuses_to_start_with_the_development_secret():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="uppka.palopokota.go.id")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_development_works_with_nothing_set():
    result = run_manage("check")
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="uppka.palopokota.go.id",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "id"
    assert settings.TIME_ZONE == "Asia/Makassar"
    assert settings.USE_TZ


@pytest.mark.parametrize("key, reason", [
    ("change-me", "example value"),
    ("short-but-random-Zq8", "characters long"),
    ("ab" * 30, "different characters"),
])
def test_production_refuses_a_weak_or_example_secret(key, reason):
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="uppka.palopokota.go.id", SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and reason in result.stderr


def test_the_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("DEBUG=0\nALLOWED_HOSTS=uppka.palopokota.go.id\nSECRET_KEY=change-me\n")
    result = run_manage("check", UPPKA_ENV_FILE=str(env_file))
    assert result.returncode != 0 and "example value" in result.stderr  # the file's secret was read
    result = run_manage("shell", "-c", "from django.conf import settings; print(settings.ALLOWED_HOSTS)",
                        UPPKA_ENV_FILE=str(env_file), SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stderr
    assert "uppka.palopokota.go.id" in result.stdout


def test_a_missing_env_file_named_by_uppka_env_file_is_an_error(tmp_path):
    result = run_manage("check", UPPKA_ENV_FILE=str(tmp_path / "nope"))
    assert result.returncode != 0 and "does not exist" in result.stderr


def test_hsts_starts_short_without_preload_and_follows_the_env():
    show = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD)"
    production = {"DEBUG": "0", "ALLOWED_HOSTS": "uppka.palopokota.go.id", "SECRET_KEY": secrets.token_urlsafe(50)}
    assert run_manage("shell", "-v", "0", "-c", show, **production).stdout.split() == ["3600", "False"]
    later = run_manage("shell", "-v", "0", "-c", show, SECURE_HSTS_SECONDS="31536000", SECURE_HSTS_PRELOAD="1", **production)
    assert later.stdout.split() == ["31536000", "True"]


def test_log_lines_carry_time_level_and_logger():
    result = run_manage("shell", "-c", "import logging; logging.getLogger('uppka.test').info('hello')")
    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.endswith("INFO uppka.test hello") and line[:4].isdigit(), line


def test_admins_and_smtp_come_from_the_env():
    show = "from django.conf import settings as s; print(s.ADMINS, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_BACKEND)"
    result = run_manage("shell", "-c", show, ADMINS="IT Palopo <it@palopokota.go.id>, ops@example.org",
                        EMAIL_HOST="smtp.palopokota.go.id")
    assert "[('IT Palopo', 'it@palopokota.go.id'), ('', 'ops@example.org')] smtp.palopokota.go.id 587 True" in result.stdout
    assert "smtp" in result.stdout.split()[-1]


def test_sentry_is_optional(monkeypatch, caplog):
    import builtins

    from uppka.errors import start_sentry

    real_import = builtins.__import__

    def no_sentry(name, *args, **kwargs):
        if name == "sentry_sdk":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sentry)
    assert start_sentry("https://key@sentry.example/1", environment="test") is False
    assert "sentry-sdk is not installed" in caplog.text


def test_the_example_env_file_works_once_given_a_real_secret():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        UPPKA_ENV_FILE=str(ROOT / ".env.example"), SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stdout + result.stderr
