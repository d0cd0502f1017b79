"""Epoch-microsecond instants of log timestamps (cutover.timeutil): ISO 8601 text and epoch
numbers, range-checked, and the fast path for the RLM's own form."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.timeutil import (
    MAX_EPOCH_US,
    MIN_EPOCH_US,
    checked_epoch_us,
    epoch_number_us,
    epoch_us,
    from_epoch_us,
    instant_us,
    leading_stamp_us,
)

T0 = datetime(2026, 2, 2, 10, 0, 1, 123_000, tzinfo=UTC)
T0_US = 1_770_026_401_123_000


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-02T10:00:01.123Z",
        "2026-02-02T10:00:01.123z",
        "2026-02-02T10:00:01.123+00:00",
        "2026-02-02T11:00:01.123+01:00",
        "2026-02-02T10:00:01.123",  # naive is UTC
        "2026-02-02 10:00:01.123",
        "  2026-02-02T10:00:01.123Z ",
        1_770_026_401_123,  # epoch ms
        "1770026401123",
        # the same number in Arabic-Indic digits
        "\u0661\u0667\u0667\u0660\u0660\u0662\u0666\u0664\u0660\u0661\u0661\u0662\u0663",
        1_770_026_401.123,  # epoch seconds: below 1e11
        1_770_026_401_123.0,
    ],
)
def test_forms_of_one_instant(value: object) -> None:
    assert instant_us(value) == T0_US == epoch_us(T0)
    assert from_epoch_us(instant_us(value)) == T0


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        "",
        "   ",
        "soon",
        "2026-13-01T00:00:00Z",
        "\u00b2",  # a digit to str.isdigit, not to int()
        "12\u00b3",
        [],
        {"time": 1},
        math.nan,
        math.inf,
        -math.inf,
    ],
)
def test_what_is_no_instant(value: object) -> None:
    assert instant_us(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        10**17,  # epoch ms, year ~3 million
        -(10**17),
        "99999999999999999999",
        1e18,
        -1e18,
        1e300,
        10**400,
    ],
)
def test_an_instant_no_datetime_holds_is_none_not_an_error(value: object) -> None:
    assert instant_us(value) is None


def test_the_bounds_are_the_datetime_range() -> None:
    assert from_epoch_us(MIN_EPOCH_US) == datetime.min.replace(tzinfo=UTC)
    assert from_epoch_us(MAX_EPOCH_US) == datetime.max.replace(tzinfo=UTC)
    assert instant_us("0001-01-01T00:00:00Z") == MIN_EPOCH_US
    assert instant_us("9999-12-31T23:59:59.999999Z") == MAX_EPOCH_US
    assert epoch_number_us(MAX_EPOCH_US // 1000) == MAX_EPOCH_US // 1000 * 1000
    assert epoch_number_us(MAX_EPOCH_US // 1000 + 1) is None
    assert epoch_number_us(MIN_EPOCH_US // 1000 - 1) is None
    assert from_epoch_us(None) is None


def test_epoch_numbers_below_1e11_are_seconds() -> None:
    assert epoch_number_us(99_999_999_999) == 99_999_999_999_000_000
    assert epoch_number_us(100_000_000_000) == 100_000_000_000_000
    assert epoch_number_us(-9_999_999_999) == -9_999_999_999_000_000
    assert epoch_number_us(-99_999_999_999) is None  # seconds: before year 1
    assert epoch_number_us(-100_000_000_000) == -100_000_000_000_000
    assert epoch_number_us(1.5) == 1_500_000
    assert epoch_number_us(0) == 0


def test_checked_epoch_us_is_none_where_epoch_us_overflows() -> None:
    late = datetime.max.replace(tzinfo=timezone(-timedelta(hours=1)))
    with pytest.raises(OverflowError):
        epoch_us(late)
    assert checked_epoch_us(late) is None
    assert checked_epoch_us(T0) == T0_US
    assert epoch_us(T0.replace(tzinfo=None)) == T0_US  # naive is UTC


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(st.sampled_from("0123456789-:.TZz+ ,UTC")),
        st.text(),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
    )
)
def test_never_an_error_and_always_in_range(value: object) -> None:
    instant = instant_us(value)
    assert instant is None or MIN_EPOCH_US <= instant <= MAX_EPOCH_US
    if isinstance(value, str):
        fast = leading_stamp_us(value)
        assert fast is None or MIN_EPOCH_US <= fast <= MAX_EPOCH_US


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(timezones=st.just(UTC)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_iso_text_of_any_datetime_is_its_instant(moment: datetime, offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    try:
        shown = moment.astimezone(zone)
    except OverflowError:
        return  # not a datetime in that zone
    assert instant_us(shown.isoformat()) == epoch_us(moment)
    assert instant_us(moment.replace(tzinfo=None).isoformat()) == epoch_us(moment)


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(timezones=st.just(UTC)),
    ms=st.integers(-(10**16), 10**16) | st.integers(-(10**12), 10**12),
)
def test_epoch_milliseconds_of_any_instant(moment: datetime, ms: int) -> None:
    whole_ms = epoch_us(moment) // 1000
    if abs(whole_ms) >= 100_000_000_000:
        assert instant_us(whole_ms) == whole_ms * 1000
        # a string of digits is read as the number; a sign makes it no such string
        assert instant_us(str(whole_ms)) == (whole_ms * 1000 if whole_ms > 0 else None)
    us = ms * 1_000_000 if abs(ms) < 100_000_000_000 else ms * 1000  # seconds below 1e11
    assert instant_us(ms) == (us if MIN_EPOCH_US <= us <= MAX_EPOCH_US else None)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2026-02-02T10:00:01.123Z INFO x", T0_US),
        ("2026-02-02T10:00:01.123Z", T0_US),
        ("2026-02-02T10:00:01.123Z]", T0_US),
        ("2026-02-02T10:00:01.123Z|x", T0_US),
        ("2026-02-02T10:00:01.123Zx", None),  # not followed by white space, ], | or the end
        ("2026-02-02T10:00:60.123Z x", None),  # no clock shows that second
        ("2026-02-30T10:00:01.123Z x", None),  # no such day
        ("0000-01-01T00:00:00.000Z x", None),  # no year 0
        (" 2026-02-02T10:00:01.123Z x", None),  # not at the start
        ("2026-02-02T10:00:01,123Z x", None),  # another form: the general pattern's
        ("2026-02-02T10:00:01.123+00:00 x", None),
    ],
)
def test_the_fast_path_reads_only_the_rlms_own_form(line: str, expected: int | None) -> None:
    assert leading_stamp_us(line) == expected
    assert leading_stamp_us(line) == expected  # from the per-minute cache


def test_the_fast_path_at_the_ends_of_the_datetime_range() -> None:
    assert leading_stamp_us("9999-12-31T23:59:59.999Z x") == MAX_EPOCH_US - 999
    assert leading_stamp_us("0001-01-01T00:00:00.000Z x") == MIN_EPOCH_US
