"""JSON for the wire: Decimals travel as JSON numbers with their exact digits."""

import json
import re
import secrets
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from apps.core.money import amount_to_wire

# A Decimal's placeholder string, with any nonce: compiled once (building the pattern of a
# call's own nonce each call cost more than the rest of ``dumps`` for a small payload).
_MARKED = re.compile(r'"__dec_([0-9a-f]{12})__(-?[0-9.]+)"')


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes where every Decimal is written as a number, never via float."""
    nonce = secrets.token_hex(6)
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

    def unquote(match: re.Match[str]) -> str:
        return match.group(2) if match.group(1) == nonce else match.group(0)

    return _MARKED.sub(unquote, text).encode()


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping every number exact (floats become Decimal)."""
    return json.loads(raw, parse_float=Decimal, parse_int=int)


def jsonable(value: Any) -> Any:
    """``value`` as a JSON column stores it exactly: Decimals as strings (every digit kept),
    dates and times in ISO 8601, UUIDs as text; containers walked, dict keys as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value
