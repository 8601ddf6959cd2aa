"""``wire.dumps``: the pattern compiled once writes the very bytes the per-call one did."""

import json
import re
import secrets
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from apps.core import wire
from apps.core.money import amount_to_wire


def dumps_per_call_pattern(payload: Any, nonce: str) -> bytes:
    """``dumps`` as it was, building the pattern of its nonce on every call."""
    marker = f"__dec_{nonce}__"

    def replace(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{marker}{amount_to_wire(value)}"
        if isinstance(value, dict):
            return {key: replace(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [replace(item) for item in value]
        return value

    text = json.dumps(replace(payload), separators=(",", ":"), ensure_ascii=False)
    return re.sub(rf'"{marker}(-?[0-9.]+)"', r"\1", text).encode()


NONCE = "0123456789ab"
amounts = st.decimals(min_value=0, max_value=10**9, places=8, allow_nan=False)
leaves = (
    amounts
    | st.text(max_size=12)
    | st.integers()
    | st.booleans()
    | st.none()
    | st.sampled_from(["__dec_0123456789ab__12.5", "__dec_ffffffffffff__3", "é€"])
)
payloads = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(payload=payloads)
def test_dumps_writes_the_same_bytes_as_the_per_call_pattern(payload):
    original = secrets.token_hex
    secrets.token_hex = lambda _n=None: NONCE  # type: ignore[assignment]
    try:
        assert wire.dumps(payload) == dumps_per_call_pattern(payload, NONCE)
    finally:
        secrets.token_hex = original


def test_decimals_are_numbers_and_a_look_alike_string_stays_a_string():
    body = wire.dumps({"amount": Decimal("12.50"), "note": "__dec_ffffffffffff__3", "n": [1]})
    assert body == b'{"amount":12.5,"note":"__dec_ffffffffffff__3","n":[1]}'
