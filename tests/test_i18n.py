"""The Indonesian catalogue is complete and the compiled file matches it."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "id" / "LC_MESSAGES" / "django.po"


def keys(catalogue):
    return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in catalogue if not entry.obsolete}


def test_catalogue_holds_exactly_the_strings_of_the_code(tmp_path):
    """`make messages` was run after the last change of a user-facing string: extracting
    the strings again (from a copy, so the checkout is untouched) finds none missing from
    the committed catalogue and none left over."""
    if not shutil.which("xgettext"):
        missing_tool("GNU gettext (xgettext) not found: install it with `apt-get install gettext`.")
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT, copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "staticfiles", "test-results", "node_modules",
                                      "*.sqlite3", "__pycache__", "docs", "tests"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "id", "--no-obsolete", "--verbosity", "0",
         "--ignore", "staticfiles/*"],
        cwd=copy, check=True, capture_output=True,
    )
    extracted, committed = keys(polib.pofile(str(copy / PO.relative_to(ROOT)))), keys(polib.pofile(str(PO)))
    assert sorted(extracted - committed, key=str) == [], "strings missing from locale/id: run `make messages`"
    assert sorted(committed - extracted, key=str) == [], "strings no longer in the code: run `make messages`"


def test_every_message_is_translated():
    catalogue = polib.pofile(str(PO))
    assert len(catalogue) > 50
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []


def test_compiled_catalogue_matches_the_source():
    catalogue = polib.pofile(str(PO))
    with translation.override("id"):
        for entry in catalogue.translated_entries():
            if entry.msgid_plural:
                assert translation.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
            elif entry.msgctxt:
                assert translation.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr
            else:
                assert translation.gettext(entry.msgid) == entry.msgstr, entry.msgid


@pytest.mark.parametrize(
    "value, text",
    [(1250000, "Rp 1.250.000"), (0, "Rp 0"), (-50000, "-Rp 50.000"), (999.5, "Rp 1.000"), (-0.5, "-Rp 1"), (None, "")],
)
def test_rupiah_format(value, text):
    from uppka.formats import format_rupiah

    assert format_rupiah(value) == text


@pytest.mark.parametrize("value, text", [(94.64, "94,6%"), (0.05, "0,1%"), (100, "100,0%"), (None, "")])
def test_percent_format(value, text):
    from uppka.formats import format_percent

    assert format_percent(value) == text
