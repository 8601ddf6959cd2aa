"""How the admin shows money and units: 2 decimals (half-up) with the exact 8 places in the
title; units with at most 12 places (cut toward zero), the exact value in the title when cut."""

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.admin_display import EMPTY, money, money_text, number
from apps.core.money import AMOUNT_QUANTUM, MAX_AMOUNT

D = Decimal
amounts = st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=8, allow_nan=False)
units = st.decimals(
    min_value=-(10**21), max_value=10**21, places=18, allow_nan=False, allow_infinity=False
)
TITLE = re.compile(r'title="([^"]*)"')
SHOWN = re.compile(r">([^<]*)<")


def title_of(html: str) -> str | None:
    found = TITLE.search(html)
    return found.group(1) if found else None


def shown_of(html: str) -> str:
    found = SHOWN.search(html)
    assert found is not None
    return found.group(1)


def test_money_shows_two_decimals_and_the_exact_value_on_hover():
    html = money(D("7733.98917390"))
    assert html == '<span class="cp-money num" title="7733.98917390">7,733.99</span>'


def test_money_with_a_currency_keeps_it_in_a_quieter_suffix():
    html = money(D("1234567.5"), "USD")
    assert html == (
        '<span class="cp-money num" title="1234567.50000000">1,234,567.50'
        '<span class="cp-ccy">USD</span></span>'
    )


@pytest.mark.parametrize(
    ("value", "shown", "title"),
    [
        (D("-12.345"), "-12.35", "-12.34500000"),  # half-up: away from zero on a tie
        (D("2.005"), "2.01", "2.00500000"),
        (D("0.004"), "0.00", "0.00400000"),
        (D("-0.004"), "0.00", "-0.00400000"),  # never "-0.00"
        (D(0), "0.00", "0.00000000"),
        (5, "5.00", "5.00000000"),
    ],
)
def test_money_edges(value, shown, title):
    html = money(value)
    assert shown_of(html) == shown
    assert title_of(html) == title


def test_a_negative_amount_is_tinted_and_none_is_a_dash():
    assert 'class="cp-money num cp-neg"' in money(D("-1"))
    assert money(None) == EMPTY
    assert money(None, "USD") == EMPTY


@given(amounts)
def test_the_title_parses_back_to_the_exact_amount_and_the_text_is_it_rounded_half_up(value):
    html = money(value, "EUR")
    exact = value.quantize(AMOUNT_QUANTUM)
    title = title_of(html)
    assert title is not None and "," not in title and "E" not in title
    assert D(title) == exact and len(title.split(".")[1]) == 8
    expected = exact.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert D(shown_of(html).replace(",", "")) == expected
    assert money_text(value) == shown_of(html)


def test_units_show_at_most_twelve_places_trimmed_with_the_exact_value_when_cut():
    html = number(D("7733.989173903920000000"))
    assert shown_of(html) == "7,733.98917390392"
    assert title_of(html) is None  # nothing was cut
    cut = number(D("1.123456789012345678"))
    assert shown_of(cut) == "1.123456789012"  # cut toward zero, not rounded up
    assert title_of(cut) == "1.123456789012345678"


def test_whole_units_keep_two_places_and_counts_none():
    assert shown_of(number(D("1000.000000000000000000"))) == "1,000.00"
    assert shown_of(number(D("2.5"))) == "2.50"
    assert number(1234, 0) == '<span class="cp-money num">1,234</span>'
    assert number(None) == EMPTY


def test_more_than_twelve_places_is_refused():
    with pytest.raises(ValueError, match="0 to 12 places"):
        number(D(1), 18)


@given(units)
def test_units_never_show_more_than_twelve_places_and_the_title_is_exact(value):
    html = number(value)
    text = shown_of(html).replace(",", "")
    assert len(text.partition(".")[2]) <= 12
    shown = D(text)
    assert abs(shown) <= abs(value) and abs(value - shown) < D("1e-12")
    title = title_of(html)
    if title is None:
        assert shown == value
    else:
        assert D(title) == value
