"""Uploaded workbooks kept for a day between the dry run and the import, per user."""

import json
import secrets
import time
from pathlib import Path

from django.conf import settings

from households.workbook import Problem

KEEP_SECONDS = 24 * 60 * 60
SESSION_KEY = "import_tokens"


def _dir() -> Path:
    path = Path(settings.IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(request, upload) -> str:
    """Save the uploaded file under a random token that only this session may use."""
    _forget_old_files()
    token = secrets.token_urlsafe(16)
    with (_dir() / f"{token}.xlsx").open("wb") as f:
        for chunk in upload.chunks():
            f.write(chunk)
    request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, [])[-9:], token]
    return token


def upload_path(request, token: str) -> Path | None:
    """The stored file, if the token is this session's and the file is still there."""
    if token not in request.session.get(SESSION_KEY, []):
        return None
    path = _dir() / f"{token}.xlsx"
    return path if path.exists() else None


def save_problems(token: str, problems: list[Problem]) -> None:
    data = [[p.sheet, p.row, p.column, p.message, p.warning] for p in problems]
    (_dir() / f"{token}.json").write_text(json.dumps(data), encoding="utf-8")


def load_problems(token: str) -> list[Problem]:
    path = _dir() / f"{token}.json"
    if not path.exists():
        return []
    return [Problem(*row) for row in json.loads(path.read_text(encoding="utf-8"))]


def discard(token: str) -> None:
    for suffix in (".xlsx", ".json"):
        (_dir() / f"{token}{suffix}").unlink(missing_ok=True)


def _forget_old_files() -> None:
    limit = time.time() - KEEP_SECONDS
    for path in _dir().glob("*"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
