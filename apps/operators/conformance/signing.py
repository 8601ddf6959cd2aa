"""How a signature was computed, step by step, for an operator debugging its own code."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from apps.operators.clients import PreparedCall, callback_signed, wallet_signed
from apps.operators.models import Operator
from apps.operators.signatures import wallet_signing_input

WALLET_ENDPOINTS = ("auth", "withdraw", "deposit", "rollback")
CALLBACK_ENDPOINTS = ("streamer-balance", "transfer", "game-pool")


@dataclass(frozen=True)
class Explained:
    call: PreparedCall
    steps: list[str]


def signature_explain(
    *, operator: Operator, endpoint: str, body: bytes, timestamp: str | None = None
) -> Explained:
    """The headers our side sends for ``body`` at ``endpoint`` (a callback name, or
    ``wallet/<name>``), and each step of the signature's computation."""
    if endpoint.startswith("wallet/"):
        name = endpoint.removeprefix("wallet/")
        if name not in WALLET_ENDPOINTS:
            raise ValueError(f"wallet endpoint must be one of {', '.join(WALLET_ENDPOINTS)}")
        call = wallet_signed(operator, name, body, timestamp=timestamp)
        signing_input = wallet_signing_input(call.url, call.headers["X-VC-Client-TS"], body)
        return Explained(
            call,
            [
                f"body: {len(body)} bytes, exactly as given (never re-serialised)",
                "signing input = X-VC-Client-TS + URL path + query + body:",
                f"  {signing_input.decode(errors='replace')}",
                "X-VC-Client-Signature = hex(HMAC-SHA256(wallet secret, signing input)):",
                f"  {call.headers['X-VC-Client-Signature']}",
            ],
        )
    if endpoint not in CALLBACK_ENDPOINTS:
        raise ValueError(
            f"endpoint must be one of {', '.join(CALLBACK_ENDPOINTS)} or wallet/<name>"
        )
    call = callback_signed(operator, endpoint, body)
    digest = hashlib.md5(body).hexdigest()  # noqa: S324 - the contract's choice
    return Explained(
        call,
        [
            f"body: {len(body)} bytes, exactly as given (never re-serialised)",
            f"MD5(body), lowercase hex: {digest}",
            "X-REQUEST-SIGNATURE = Base64(HMAC-SHA512(secret key, that hex string)):",
            f"  {call.headers['X-REQUEST-SIGNATURE']}",
        ],
    )
