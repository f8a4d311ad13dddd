"""Uploaded workbooks kept for a day between the dry run and the import, per user."""

import json
import os
import secrets
import time
from pathlib import Path

from django.conf import settings

from households.workbook import Problem, ProblemLog

KEEP_SECONDS = 24 * 60 * 60
SCRATCH_KEEP_SECONDS = 60 * 60  # a workbook is written in seconds (gunicorn stops a worker after 120)
SESSION_KEY = "import_tokens"


def _dir() -> Path:
    path = Path(settings.IMPORT_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def store_upload(request, upload) -> str:
    """Save the uploaded file under a random token that only this session may use."""
    forget_old_files()
    token = secrets.token_urlsafe(16)
    path = _dir() / f"{token}.xlsx"  # an .ods or .xls too: the reader goes by content (workbook.open_calamine)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:  # whole NIKs: the app's user only
        for chunk in upload.chunks():
            f.write(chunk)
    request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, [])[-9:], token]
    return token


def upload_path(request, token: str) -> Path | None:
    """The stored file, if the token is this session's and the file is still there."""
    if token not in request.session.get(SESSION_KEY, []):
        return None
    return stored_path(token)


def stored_path(token: str) -> Path | None:
    """The stored file, if it is still there: for the background job that checks or imports
    it, started by the session that holds the token (``upload_path``)."""
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        return None
    path = _dir() / f"{token}.xlsx"
    return path if path.exists() else None


def save_problems(token: str, log: ProblemLog) -> None:
    """The problems kept (at most MAX_PROBLEMS) and how many there were, for the error copy."""
    data = {"total": log.total, "problems": [[p.sheet, p.row, p.column, p.message, p.warning] for p in log.problems],
            "summaries": [[p.sheet, p.row, p.column, p.message, p.warning] for p in log.summaries]}
    with open(os.open(_dir() / f"{token}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
        f.write(json.dumps(data))  # names and KK numbers in the messages: the app's user only


def load_problems(token: str) -> tuple[list[Problem], int, list[Problem]]:
    """The problems saved for an upload, how many there were in all, and the lines that sum
    up a cause shared by many rows."""
    path = _dir() / f"{token}.json"
    if not path.exists():
        return [], 0, []
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):  # saved before the problems were capped
        data = {"total": len(data), "problems": data}
    return ([Problem(*row) for row in data["problems"]], data["total"],
            [Problem(*row) for row in data.get("summaries", [])])


def discard(token: str) -> None:
    for suffix in (".xlsx", ".json"):
        (_dir() / f"{token}{suffix}").unlink(missing_ok=True)


def forget_old_files() -> int:
    """Remove uploads older than a day, and what a killed worker left in the scratch folder
    (uppka/scratch.py) older than an hour: files first, then the folders they leave empty.
    Returns how many files went. Called on every upload and by ``manage.py clean_imports``."""
    now, top, removed = time.time(), _dir(), 0
    for folder, _subfolders, files in os.walk(top, topdown=False):
        folder = Path(folder)
        limit = now - (KEEP_SECONDS if folder == top else SCRATCH_KEEP_SECONDS)
        folder_is_old = folder.stat().st_mtime < limit  # read before removing its files touches it
        for name in files:
            try:
                if (folder / name).lstat().st_mtime < limit:
                    (folder / name).unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # another worker removed it first
        if folder_is_old and folder.parent != top and folder != top:  # a write's own folder, not tmp itself
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty: a file younger than the limit
    return removed
