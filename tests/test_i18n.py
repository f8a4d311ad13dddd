"""The Indonesian catalogue is complete and the compiled file matches it."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

PO = Path(__file__).resolve().parent.parent / "locale" / "id" / "LC_MESSAGES" / "django.po"


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
