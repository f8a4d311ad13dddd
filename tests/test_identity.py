import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from households.identity import mask_nik, nik_warnings, normalize_number, validate_kk, validate_nik


@pytest.mark.parametrize(
    "nik",
    [
        "7373011506800001",  # man born 15-06-80
        "7373015506809999",  # woman: day 15 + 40
        "7373012902000001",  # 29 February is always allowed
        "7373017112990001",  # woman born 31-12-99
        "7373013101000001",
    ],
)
def test_valid_niks_pass(nik):
    validate_nik(nik)


@pytest.mark.parametrize(
    "nik, code",
    [
        ("737301150680001", "nik_format"),
        ("73730115068000011", "nik_format"),
        ("7373O11506800001", "nik_format"),
        ("7373010006800001", "nik_day"),  # day 00
        ("7373013206800001", "nik_day"),  # day 32
        ("7373014006800001", "nik_day"),  # 40 = day 0 for women
        ("7373017206800001", "nik_day"),  # 72 = day 32
        ("7373013002800001", "nik_day"),  # 30 February
        ("7373013104800001", "nik_day"),  # 31 April
        ("7373011500800001", "nik_month"),
        ("7373011513800001", "nik_month"),
        ("7373011506800000", "nik_serial"),
    ],
)
def test_impossible_niks_are_refused_with_a_reason(nik, code):
    with pytest.raises(ValidationError) as e:
        validate_nik(nik)
    assert e.value.code == code


def test_nik_messages_are_in_indonesian():
    with translation.override("id"), pytest.raises(ValidationError) as e:
        validate_nik("7373011513800001")
    assert "bulan lahir" in e.value.messages[0]


@pytest.mark.parametrize("kk", ["737301000000001", "73730100000000012", "", "7373-0100000000"])
def test_kk_must_be_sixteen_digits(kk):
    with pytest.raises(ValidationError):
        validate_kk(kk)


def test_palopo_nik_has_no_warning():
    assert nik_warnings("7373011506800001") == []


def test_nik_from_luwu_warns_that_it_was_issued_outside_palopo():
    with translation.override("id"):
        [warning] = nik_warnings("7317011506800001")
    assert "Kabupaten Luwu" in warning and "luar Palopo" in warning


def test_unknown_regency_code_warns():
    [warning] = nik_warnings("9999011506800001")
    assert "9999" in warning


def test_mask_shows_only_last_four_digits():
    assert mask_nik("7373011506801234") == "••••••••••••1234"
    assert "737301" not in mask_nik("7373011506801234")


def test_normalize_strips_separators_people_type():
    assert normalize_number(" 7373.0115-0680 1234 ") == "7373011506801234"
