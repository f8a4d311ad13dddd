"""Property-based tests: whatever the input, the parsers give a value or a ValidationError."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from households import workbook
from households.identity import nik_warnings, validate_kk, validate_nik
from households.importer import plan_import
from households.parsing import parse_amount, parse_period
from uppka.formats import format_number

ANY_CELL = st.one_of(
    st.none(), st.text(max_size=40), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.dates(), st.datetimes(), st.decimals(allow_nan=True),
)
NUMBERISH = st.text(alphabet="0123456789.,-+ RrpPjJtTkKbBuiaIA\u00a0\u2212e", max_size=20)


def value_or_validation_error(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except ValidationError:
        return None


@given(st.one_of(st.text(), NUMBERISH, ANY_CELL))
def test_amount_parser_only_raises_validation_errors(text):
    amount = value_or_validation_error(parse_amount, text)
    assert amount is None or (isinstance(amount, int) and 0 <= amount <= 1_000_000_000)


@given(st.integers(min_value=0, max_value=1_000_000_000))
def test_amounts_written_the_indonesian_way_read_back_exactly(amount):
    assert parse_amount(format_number(amount)) == amount
    assert parse_amount(f"Rp {format_number(amount)}") == amount
    assert parse_amount(str(amount)) == amount


@given(st.one_of(st.text(max_size=20), st.text(alphabet="0123456789", min_size=14, max_size=18)))
def test_identity_checks_only_raise_validation_errors(text):
    value_or_validation_error(validate_kk, text)
    try:
        validate_nik(text)
    except ValidationError:
        return
    assert all(isinstance(w, str) for w in nik_warnings(text))  # a valid NIK only ever warns


@given(st.one_of(st.text(max_size=12), st.dates(), st.datetimes()))
def test_period_parser_only_raises_validation_errors(text):
    period = value_or_validation_error(parse_period, text)
    assert period is None or period.day == 1


@given(ANY_CELL)
def test_workbook_cell_conversions_only_raise_validation_errors(value):
    for convert, kwargs in [
        (workbook.identity_number, {"label": "NIK"}),
        (workbook.date_cell, {"required": False}),
        (workbook.period_cell, {}),
        (workbook.whole_number, {"minimum": 1, "maximum": 50}),
        (workbook.amount_cell, {}),
        (workbook.kb_method_cell, {}),
        (workbook.text_cell, {"max_length": 30}),
        (workbook.check_kk, {}),
        (workbook.check_nik, {}),
    ]:
        value_or_validation_error(convert, value, **kwargs)



def sheet_rows(sheet):
    columns = {c.name: ANY_CELL for c in workbook.SHEETS[sheet]}
    return st.lists(st.tuples(st.integers(min_value=2, max_value=100), st.fixed_dictionaries(columns)), max_size=4)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(groups=sheet_rows("Kelompok"), families=sheet_rows("Keluarga"), incomes=sheet_rows("Pendapatan"))
def test_checking_any_workbook_rows_reports_problems_instead_of_crashing(group_a, groups, families, incomes):
    long, wide = workbook.IncomeSheet("Pendapatan", wide=False), workbook.IncomeSheet("Pendapatan 2024", wide=True)
    wide.columns = ["2024-02"]
    for number, values in incomes:  # the same cells in each form, as the reader would keep them
        for sheet, period, month in ((long, values["Periode"], None), (wide, None, workbook.month_number(dt.date(2024, 2, 1)))):
            sheet.numbers.append(number)
            sheet.kks.append(values["No KK"])
            sheet.add(len(sheet.numbers) - 1, 0, period, values["Pendapatan"], month=month)
    sheets = workbook.Sheets(rows={"Kelompok": groups, "Keluarga": families}, incomes=[long, wide])
    plan = plan_import(sheets)
    for problem in plan.problems:
        assert workbook.sheet_rank(problem.sheet) < len(workbook.SHEETS) and problem.message


@given(st.binary(max_size=2000))
def test_any_bytes_are_a_workbook_error_or_a_workbook(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "x.xlsx"
    path.write_bytes(data)
    try:
        workbook.read_workbook(path)
    except workbook.WorkbookError:
        pass
