from datetime import date

import pytest

from shared import clock
from shared.calendar import add_working_days, is_working_day, working_period
from shared.identity import check_digit, id_number_problem, make_id_number
from shared.masking import mask_id_number, mask_name, mask_phone


def test_gb11643_check_digit_of_the_standard_example():
    # The worked example of GB 11643-1999: 11010519491231002 → X.
    assert check_digit("11010519491231002") == "X"
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("11010519491231002x") is None  # lower-case x is accepted


@pytest.mark.parametrize(
    "bad, why",
    [
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "impossible birth date"),
        ("1101051949123100", "17 digits"),
        ("11010519491231002Y", "17 digits"),
    ],
)
def test_invalid_id_numbers_say_why(bad, why):
    assert why in id_number_problem(bad)


def test_generated_id_numbers_are_valid():
    for n in range(200):
        assert id_number_problem(make_id_number("330106", date(1990, 1, 1), n)) is None


def test_masking_keeps_nothing_identifying():
    assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧***" and mask_name("王") == "*"
    masked = mask_id_number("11010519491231002X")
    assert masked == "1101**********002X" and "19491231" not in masked
    assert mask_phone("13812345678") == "138****5678"


def test_working_days_follow_the_national_calendar():
    assert not is_working_day(date(2025, 10, 1))  # National Day holiday
    assert is_working_day(date(2025, 9, 28))  # a Sunday made a working day
    assert not is_working_day(date(2025, 10, 4))  # a Saturday in the holiday
    # 7 working days from Tuesday 30 Sep 2025: 30 Sep, 9, 10, 11 (an adjusted Saturday), 13, 14, 15 Oct.
    assert working_period(date(2025, 9, 30), 7) == (date(2025, 9, 30), date(2025, 10, 15))
    assert add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 9)


def test_unified_social_credit_codes_are_checked():
    from shared.identity import credit_code_problem

    assert credit_code_problem("91350100M000100Y43") is None
    assert credit_code_problem("91350100m000100y43") is None  # lower case accepted
    assert "check character" in credit_code_problem("91350100M000100Y44")
    assert "18 characters" in credit_code_problem("91350100M000100Y4")
    assert "18 characters" in credit_code_problem("91350100I000100Y43")  # I is not in the alphabet


def test_full_width_digits_are_not_an_id_number():
    # `\d` would take them, and one person would have two identities (two open applications).
    ascii_id = make_id_number("330112", date(2001, 3, 30), 903)
    full_width = ascii_id[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + ascii_id[-1]
    assert id_number_problem(ascii_id) is None
    assert id_number_problem(full_width) is not None


def test_a_year_the_calendar_does_not_know_is_an_explicit_error_not_a_guess(tmp_path, monkeypatch):
    import pytest

    from shared import calendar

    with pytest.raises(calendar.CalendarYearUnknown) as raised:
        calendar.add_working_days(date(2099, 12, 30), 5)  # runs into a year nobody has published
    assert raised.value.year >= 2099 and "WORKING_CALENDAR_FILE" in str(raised.value)


def test_operators_may_supply_a_new_years_schedule(tmp_path, monkeypatch):
    from shared import calendar

    year = clock.today().year + 5
    supplied = tmp_path / "calendar.yaml"
    supplied.write_text(f"{year}:\n  holidays: [{year}-01-01]\n  workdays: []\n")
    monkeypatch.setenv("WORKING_CALENDAR_FILE", str(supplied))
    calendar._supplied_years.cache_clear()
    calendar.is_working_day.cache_clear()
    try:
        weekday_jan = next(date(year, 1, d) for d in range(2, 9) if date(year, 1, d).weekday() < 5)
        holiday_is_weekday = date(year, 1, 1).weekday() < 5
        if holiday_is_weekday:
            assert not calendar.is_working_day(date(year, 1, 1))
        assert calendar.is_working_day(weekday_jan)
    finally:
        calendar._supplied_years.cache_clear()
        calendar.is_working_day.cache_clear()
