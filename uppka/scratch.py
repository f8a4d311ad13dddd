"""Scratch space for files that hold people's data (uploaded rows, whole NIKs) while a
workbook is read or written: ``IMPORT_DIR/tmp``, readable by the app's user only, instead of
the shared system temporary folder. Whatever a killed worker leaves there is removed with the
old uploads (``households.imports.forget_old_files``, ``manage.py clean_imports``).
"""

import tempfile
from contextlib import contextmanager
from pathlib import Path

import xlsxwriter
from django.conf import settings


def scratch_dir() -> Path:
    """The private folder, created (mode 0700) when missing."""
    Path(settings.IMPORT_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)  # not made as a parent (0755)
    path = Path(settings.IMPORT_DIR) / "tmp"
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)  # mkdir's mode passes through the umask, and an older folder keeps its own
    return path


@contextmanager
def xlsx_workbook(out, options: dict):
    """An XlsxWriter workbook written to ``out`` and closed when the block ends. In
    constant-memory mode XlsxWriter keeps each sheet's rows in a temporary file: these go to a
    folder of their own in the private one, removed when the block ends, also when writing
    fails (XlsxWriter leaves them behind then)."""
    with tempfile.TemporaryDirectory(dir=scratch_dir()) as folder:
        book = xlsxwriter.Workbook(out, {**options, "tmpdir": folder})
        yield book
        book.close()
