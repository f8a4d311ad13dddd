import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from uppka.env import env_bool, env_list

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
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
