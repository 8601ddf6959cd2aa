"""The one place that defines how money and units are represented and rounded.

Amounts carry 8 decimal places (seed 000: "rounding to 8 decimal places"); pool units carry
18, comfortably above the 12 the specification requires, so unit math loses nothing an
8-place payout could see.
"""

import re
from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation, localcontext

AMOUNT_PLACES = 8
AMOUNT_DIGITS = 20  # up to 10^12 in whole currency units
UNIT_PLACES = 18
UNIT_DIGITS = 40
AMOUNT_QUANTUM = Decimal(1).scaleb(-AMOUNT_PLACES)
UNIT_QUANTUM = Decimal(1).scaleb(-UNIT_PLACES)
MAX_AMOUNT = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES) - AMOUNT_QUANTUM
ZERO = Decimal(0)
# The currency of play money (demo sessions and demo pools; seed 003 lists it too).
DEMO_CURRENCY = "DEMO"

# Amounts written as text: ASCII digits, an optional fraction; nothing else.
PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# An amount as other systems may write it in their answers: a sign and an exponent too.
WIRE_DECIMAL = re.compile(r"[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")
MAX_AMOUNT_CHARS = 64

# Enough precision that no intermediate product of unit math is rounded before we round it.
MATH_CONTEXT = Context(prec=80)


class AmountError(ValueError):
    """An amount that is not a finite, non-negative Decimal with at most 8 places."""


def parse_amount(value: object, *, allow_zero: bool = False, plain: bool = True) -> Decimal:
    """Parse a JSON number or string into an amount, rejecting anything suspicious.

    Strings must be plain decimal notation in ASCII digits (``10``, ``10.50``): no sign, no
    exponent (``1e3``), no digit separators (``1_0``), no other scripts' digits, no spaces.
    ``plain=False`` also takes a sign and an exponent in a string (``"0E-8"``, as Java's
    ``BigDecimal.toString`` writes): for reading what an operator answered, never for input.
    JSON numbers arrive as ``int`` or, with a fraction or exponent, as ``Decimal`` (the parser
    never makes floats); a float is converted through its shortest repr, never through its
    binary expansion. Booleans, NaN, infinities, negatives, zero (unless allowed), more than
    8 places and magnitudes beyond ``MAX_AMOUNT`` are refused, each with an ``AmountError``:
    whatever the input, nothing else is raised.
    """
    if isinstance(value, bool) or value is None:
        raise AmountError("amount must be a number")
    if isinstance(value, str):
        grammar = PLAIN_DECIMAL if plain else WIRE_DECIMAL
        if len(value) > MAX_AMOUNT_CHARS or not grammar.fullmatch(value):
            raise AmountError("amount must be a decimal number in plain notation, e.g. 10.50")
        value = Decimal(value)
    elif isinstance(value, float):
        try:
            value = Decimal(repr(value))
        except InvalidOperation as error:
            raise AmountError("amount must be a number") from error
    elif isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise AmountError("amount must be a number")
    if not value.is_finite():
        raise AmountError("amount must be finite")
    if len(value.as_tuple().digits) > MAX_AMOUNT_CHARS:
        raise AmountError("amount has too many digits")
    if value < 0:
        raise AmountError("amount must not be negative")
    if value == 0 and not allow_zero:
        raise AmountError("amount must be positive")
    if value > MAX_AMOUNT:
        raise AmountError("amount is too large")
    with localcontext(MATH_CONTEXT):
        amount = value.quantize(AMOUNT_QUANTUM)
    if amount != value:
        raise AmountError(f"amount has more than {AMOUNT_PLACES} decimal places")
    return amount


def round_amount_down(value: Decimal) -> Decimal:
    """Round toward zero to 8 places: payouts never exceed what the pool holds."""
    with localcontext(MATH_CONTEXT):
        return value.quantize(AMOUNT_QUANTUM, rounding=ROUND_DOWN)


def round_units_down(value: Decimal) -> Decimal:
    with localcontext(MATH_CONTEXT):
        return value.quantize(UNIT_QUANTUM, rounding=ROUND_DOWN)


def amount_to_wire(value: Decimal) -> str:
    """Render an amount for JSON bodies: plain notation, no exponent, at most 8 places."""
    return format(value.quantize(AMOUNT_QUANTUM).normalize(), "f") if value else "0"


def amount_field_kwargs() -> dict:
    return {"max_digits": AMOUNT_DIGITS, "decimal_places": AMOUNT_PLACES}


def unit_field_kwargs() -> dict:
    return {"max_digits": UNIT_DIGITS, "decimal_places": UNIT_PLACES}


PERCENT_PLACES = 4


def percent_field_kwargs() -> dict:
    """A rate kept as a percent (``20`` is 20 %), to 4 places: 0.0001 % steps."""
    return {"max_digits": 7, "decimal_places": PERCENT_PLACES}


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``amount``, exact (no rounding: the caller rounds as its rule says)."""
    with localcontext(MATH_CONTEXT):
        return amount * percent / 100
