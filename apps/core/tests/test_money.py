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
        ("7.00000001", Decimal("7.00000001")),
        ("0010.10", Decimal("10.1")),
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
        ("", "plain notation"),
        ("abc", "plain notation"),
        ("1" * 65, "plain notation"),
        ([1], "must be a number"),
        ("NaN", "plain notation"),
        ("Infinity", "plain notation"),
        (float("inf"), "must be finite"),
        (Decimal("NaN"), "must be finite"),
        ("-1", "plain notation"),
        (Decimal("-1"), "must not be negative"),
        ("1e3", "plain notation"),
        ("1E3", "plain notation"),
        ("1_0", "plain notation"),
        ("\u0661\u0660", "plain notation"),  # Arabic-Indic digits: 10
        ("\uff11\uff10", "plain notation"),  # full-width digits: 10
        ("+5", "plain notation"),
        (" 7 ", "plain notation"),
        ("7.", "plain notation"),
        (".5", "plain notation"),
        ("0x10", "plain notation"),
        (0, "must be positive"),
        ("0.000000001", "more than 8 decimal places"),
        ("1000000000000", "too large"),
        (Decimal("1e400"), "too large"),
        (10**30, "too large"),
        # Beyond the default 28-digit context: once an overflow in quantize.
        ("12345678901234567890123.000000001", "too large"),
        (Decimal("12345678901234567890123.000000001"), "too large"),
        (Decimal("1.0000000000000000000000000000001"), "more than 8 decimal places"),
        (Decimal("1e-999999"), "more than 8 decimal places"),
        (Decimal("1" * 70), "too many digits"),
    ],
)
def test_parse_amount_refuses_suspicious_values(raw, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0E-8", Decimal(0)), ("1.5E+3", Decimal(1500)), ("+7", Decimal(7)), ("100.", Decimal(100))],
)
def test_answers_may_write_amounts_with_an_exponent(raw, expected):
    assert parse_amount(raw, allow_zero=True, plain=False) == expected
    with pytest.raises(AmountError, match="plain notation"):
        parse_amount(raw, allow_zero=True)


@pytest.mark.parametrize("raw", ["1_0", "\u0661\u0660", " 7", "0x10", "1e", "e5", "-1"])
def test_answers_still_refuse_what_is_not_a_number(raw):
    with pytest.raises(AmountError):
        parse_amount(raw, allow_zero=True, plain=False)


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


@given(st.one_of(st.text(max_size=80), st.decimals(allow_nan=True), st.integers(), st.floats()))
def test_parse_amount_answers_any_input_with_an_amount_or_an_amount_error(raw):
    # when
    try:
        parsed = parse_amount(raw)
    except AmountError:
        return
    # then what it accepts is an 8-place amount within range
    assert 0 < parsed <= MAX_AMOUNT
    assert parsed.as_tuple().exponent == -8
