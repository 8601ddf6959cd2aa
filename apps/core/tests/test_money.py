from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core import wire
from apps.core.money import (
    AMOUNT_QUANTUM,
    MAX_AMOUNT,
    AmountError,
    amount_to_wire,
    parse_amount,
    round_amount_down,
    round_units_down,
)

amounts = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=8, allow_nan=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (10, Decimal("10")),
        ("10.5", Decimal("10.5")),
        (4.123, Decimal("4.123")),
        (0.1, Decimal("0.1")),
        (" 7.00000001 ", Decimal("7.00000001")),
        (Decimal("1.10000000000"), Decimal("1.1")),
        ("999999999999.99999999", MAX_AMOUNT),
    ],
)
def test_parse_amount_accepts_numbers_and_strings_exactly(raw, expected):
    # when
    parsed = parse_amount(raw)
    # then
    assert parsed == expected
    assert parsed.as_tuple().exponent == -8


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (True, "must be a number"),
        (None, "must be a number"),
        ("", "must be a number"),
        ("abc", "must be a number"),
        ("1" * 65, "must be a number"),
        ([1], "must be a number"),
        ("NaN", "must be finite"),
        ("Infinity", "must be finite"),
        (float("inf"), "must be finite"),
        ("-1", "must not be negative"),
        (0, "must be positive"),
        ("0.000000001", "more than 8 decimal places"),
        ("1000000000000", "too large"),
        ("1e400", "too large"),
    ],
)
def test_parse_amount_refuses_suspicious_values(raw, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(raw)


def test_parse_amount_allows_zero_when_asked():
    assert parse_amount("0", allow_zero=True) == Decimal("0")


def test_rounding_is_always_down():
    assert round_amount_down(Decimal("1.999999999")) == Decimal("1.99999999")
    assert round_units_down(Decimal("1." + "9" * 20)) == Decimal("1." + "9" * 18)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0"), "0"),
        (Decimal("10.00000000"), "10"),
        (Decimal("4.12300000"), "4.123"),
        (Decimal("0.00000001"), "0.00000001"),
        (Decimal("1E+3"), "1000"),
    ],
)
def test_amount_to_wire_is_plain_and_short(value, text):
    assert amount_to_wire(value) == text


@given(amounts)
def test_every_amount_survives_the_wire_exactly(amount):
    # when
    decoded = wire.loads(wire.dumps({"amount": amount}))["amount"]
    # then
    assert parse_amount(decoded, allow_zero=True) == amount


@given(amounts)
def test_rounding_down_never_adds_money(amount):
    # given
    value = amount + Decimal("0.000000009")
    # then
    rounded = round_amount_down(value)
    assert rounded <= value
    assert value - rounded < AMOUNT_QUANTUM
