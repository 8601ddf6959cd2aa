"""Making text from outside safe to store: whatever an operator or a client sends.

PostgreSQL refuses NUL characters in text and JSON, and no database driver can encode a lone
UTF-16 surrogate (``"\\ud800"`` is valid JSON, but no valid UTF-8). Both are written out as
visible escapes, so the text is kept, readable, and never breaks an insert.
"""

from __future__ import annotations

from typing import Any

NUL = "\x00"


def safe_text(value: str) -> str:
    """``value`` with NUL written as ``\\x00`` and lone surrogates as ``\\udXXX``."""
    if NUL in value:
        value = value.replace(NUL, "\\x00")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def safe_json(value: Any) -> Any:
    """A parsed JSON value with every string (keys included) made safe by ``safe_text``."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_json(key): safe_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [safe_json(item) for item in value]
    return value
