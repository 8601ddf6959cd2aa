"""Both signature schemes, computed over the exact bytes on the wire.

* CopyStake callbacks and operator API (seed 000):
  ``X-REQUEST-SIGNATURE = Base64(HMAC-SHA512(secret, lowercase hex MD5(raw body)))``.
* Seamless wallet (seed 003):
  ``X-VC-Client-Signature = hex(HMAC-SHA256(wallet secret, ts + path + query + raw body))``,
  where ``path`` is the full URL path (any prefix of the wallet URL included), ``query`` is
  ``?...`` only when there is one and ``ts`` is Unix time in milliseconds.

Verification always recomputes from the raw bytes (never re-serialised JSON) and compares in
constant time.
"""

import base64
import hashlib
import hmac
import time
from urllib.parse import urlsplit

WALLET_MAX_SKEW_MS = 5 * 60 * 1000


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def copystake_signature(secret: str, body: str | bytes) -> str:
    digest = hashlib.md5(_bytes(body)).hexdigest()  # noqa: S324 - the contract's choice
    mac = hmac.new(_bytes(secret), digest.encode(), hashlib.sha512).digest()
    return base64.b64encode(mac).decode()


def copystake_verify(secret: str, body: str | bytes, signature: str | None) -> bool:
    if not signature:
        return False
    expected = copystake_signature(secret, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def wallet_signing_input(url_or_path: str, timestamp: str | int, body: str | bytes) -> bytes:
    parts = urlsplit(url_or_path)
    query = f"?{parts.query}" if parts.query else ""
    return str(timestamp).encode() + (parts.path + query).encode() + _bytes(body)


def wallet_signature(secret: str, url_or_path: str, timestamp: str | int, body: str | bytes) -> str:
    data = wallet_signing_input(url_or_path, timestamp, body)
    return hmac.new(_bytes(secret), data, hashlib.sha256).hexdigest()


def wallet_timestamp() -> str:
    return str(int(time.time() * 1000))


def wallet_verify(
    secret: str,
    url_or_path: str,
    timestamp: str | None,
    body: str | bytes,
    signature: str | None,
    *,
    now_ms: int | None = None,
    max_skew_ms: int = WALLET_MAX_SKEW_MS,
) -> bool:
    """True when the signature matches and the timestamp is within the allowed skew."""
    if not signature or not timestamp or not timestamp.isdigit():
        return False
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > max_skew_ms:
        return False
    expected = wallet_signature(secret, url_or_path, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())
