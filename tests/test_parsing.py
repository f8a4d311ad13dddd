import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from households.parsing import parse_amount, parse_period
from uppka.months import end_of_month as last_day
from uppka.months import month_after, month_before


@pytest.mark.parametrize(
    "text, amount",
    [
        ("1250000", 1_250_000),
        ("1.250.000", 1_250_000),
        ("Rp 1.250.000", 1_250_000),
        ("Rp. 1.250.000", 1_250_000),
        ("rp1.250.000", 1_250_000),
        ("1,25 jt", 1_250_000),
        ("1,25jt", 1_250_000),
        ("1.5 juta", 1_500_000),
        ("2 JT", 2_000_000),
        ("750rb", 750_000),
        ("750 ribu", 750_000),
        ("100,5 rb", 100_500),
        ("500k", 500_000),
        ("1.250.000,00", 1_250_000),
        ("1,250,000", 1_250_000),
        ("1.250", 1_250),
        ("0", 0),
        (" 1 250 000 ", 1_250_000),
        ("1.000.000.000", 1_000_000_000),
        (1_250_000, 1_250_000),
    ],
)
def test_amounts_as_people_type_them(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    "text, code",
    [
        ("abc", "invalid"),
        ("", "invalid"),
        ("1e6", "invalid"),
        ("1.2.3", "invalid"),
        ("12.50", "invalid"),
        ("1,2,3 jt", "invalid"),
        ("-5000", "negative"),
        ("Rp -5.000", "negative"),
        (-1, "negative"),
        ("12,5", "fraction"),
        ("1,2345678 jt", "fraction"),
        ("1.000.000.001", "too_large"),
        ("2000 jt", "too_large"),
        (True, "invalid"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text, code):
    with pytest.raises(ValidationError) as e:
        parse_amount(text)
    assert e.value.code == code


@pytest.mark.parametrize(
    "text, period",
    [("2021-02", dt.date(2021, 2, 1)), (" 2021-2 ", dt.date(2021, 2, 1)), (dt.date(2021, 2, 17), dt.date(2021, 2, 1))],
)
def test_periods(text, period):
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["2021-13", "2021-00", "21-02", "Februari", "", "2021-02-01"])
def test_bad_periods(text):
    with pytest.raises(ValidationError):
        parse_period(text)


def test_month_arithmetic():
    assert month_before(dt.date(2021, 1, 1)) == dt.date(2020, 12, 1)
    assert month_after(dt.date(2020, 12, 1)) == dt.date(2021, 1, 1)
    assert last_day(dt.date(2024, 2, 1)) == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    "text, says",
    [
        ("12.5OO", "letter O where a zero belongs"),
        ("1OO rb", "letter O where a zero belongs"),
        ("l.250.000", "letter l or I where a one belongs"),
        ("satu juta", "Only digits belong in an amount"),
        ("1e6", "Only digits belong in an amount"),
        ("12.50", "three digits follow each dot"),
        ("1.2500.000", "three digits follow each dot"),
        ("1,2,3 jt", "for example 1250000, 1.250.000 or 1,25 jt"),
    ],
)
def test_a_refused_amount_says_what_is_wrong_with_it(text, says):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as e:
        parse_amount(text)
    assert says in e.value.messages[0]
