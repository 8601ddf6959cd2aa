"""The one place that defines how money and units are represented and rounded.

Amounts carry 8 decimal places (seed 000: "rounding to 8 decimal places"); pool units carry
18, comfortably above the 12 the specification requires, so unit math loses nothing an
8-place payout could see.
"""

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

# Enough precision that no intermediate product of unit math is rounded before we round it.
MATH_CONTEXT = Context(prec=80)


class AmountError(ValueError):
    """An amount that is not a finite, non-negative Decimal with at most 8 places."""


def parse_amount(value: object, *, allow_zero: bool = False) -> Decimal:
    """Parse a JSON number or string into an amount, rejecting anything suspicious.

    Floats are converted through their shortest repr (what the JSON text said), never
    through binary expansion. Booleans, NaN, infinities, negatives, zero (unless allowed),
    more than 8 places and magnitudes beyond ``MAX_AMOUNT`` are refused.
    """
    if isinstance(value, bool) or value is None:
        raise AmountError("amount must be a number")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            raise AmountError("amount must be a number")
        try:
            value = Decimal(text)
        except InvalidOperation as error:
            raise AmountError("amount must be a number") from error
    if not isinstance(value, Decimal):
        raise AmountError("amount must be a number")
    if not value.is_finite():
        raise AmountError("amount must be finite")
    if value < 0:
        raise AmountError("amount must not be negative")
    if value == 0 and not allow_zero:
        raise AmountError("amount must be positive")
    exponent = value.as_tuple().exponent  # an int: only NaN and infinities have a letter here
    if (
        isinstance(exponent, int)
        and exponent < -AMOUNT_PLACES
        and value != value.quantize(AMOUNT_QUANTUM)
    ):
        raise AmountError(f"amount has more than {AMOUNT_PLACES} decimal places")
    if value > MAX_AMOUNT:
        raise AmountError("amount is too large")
    return value.quantize(AMOUNT_QUANTUM)


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
