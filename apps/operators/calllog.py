"""Writing the call log: every inbound and outbound call, with secrets masked.

Masking happens here, once, so nothing that reaches the database (and so the admin) ever
holds a key, a signature, a user token or a player token in full. Every text is also made
storable here (``apps.core.sanitize``): a call is logged however broken its bytes are.
"""

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.core.fields import mask_secret
from apps.core.sanitize import safe_text
from apps.operators.models import CallLog, Operator

SECRET_HEADERS = {
    "x-api-key",
    "x-request-signature",
    "x-vc-client-signature",
    "authorization",
    "cookie",
}
SECRET_FIELDS = {
    "usertoken",
    "token",
    "secretkey",
    "apikey",
    "operatorapikey",
    "walletsecret",
    "password",
    "secret",
}
_TOKEN_IN_URL = re.compile(r"([?&]token=)([^&\s\"]+)")
# A secret field inside text that is not valid JSON (truncated, garbled): "userToken": "abc".
_SECRET_IN_TEXT = re.compile(
    r'("(?:'
    + "|".join(
        [
            "userToken",
            "token",
            "secretKey",
            "apiKey",
            "operatorApiKey",
            "walletSecret",
            "password",
            "secret",
        ]
    )
    + r')"\s*:\s*")([^"]*)(")',
    re.IGNORECASE,
)
MAX_BODY_CHARS = 20_000


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        safe_text(name): safe_text(
            mask_secret(str(value)) if name.lower() in SECRET_HEADERS else str(value)
        )
        for name, value in headers.items()
    }


def _mask_value(value):
    if isinstance(value, dict):
        return {
            key: mask_secret(str(item))
            if key.lower().replace("_", "") in SECRET_FIELDS and item is not None
            else _mask_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask_value(item) for item in value]
    if isinstance(value, str):
        value = _TOKEN_IN_URL.sub(lambda m: m.group(1) + mask_secret(m.group(2)), value)
        return _SECRET_IN_TEXT.sub(
            lambda m: m.group(1) + mask_secret(m.group(2)) + m.group(3), value
        )
    return value


def mask_body(raw: bytes | str | None) -> str:
    """Mask secret fields of a JSON body; non-JSON text only has URL tokens masked."""
    if not raw:
        return ""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    try:
        parsed = json.loads(text)
        masked = json.dumps(_mask_value(parsed), ensure_ascii=False)
    except (ValueError, RecursionError):
        # Not JSON, or nested too deep to walk: mask what the text patterns find.
        masked = _mask_value(text)
    return safe_text(masked)[:MAX_BODY_CHARS]


def _fit(value: str, limit: int) -> str:
    """Storable text cut to a column's length (after escaping, which may lengthen it)."""
    return safe_text(value)[:limit]


def call_log_entry(
    *,
    operator: Operator | None,
    direction: str,
    endpoint: str,
    url: str,
    request_headers: Mapping[str, str],
    request_body: bytes | str | None,
    outcome: str,
    response_status: int | None = None,
    response_body: bytes | str | None = None,
    latency_ms: int | None = None,
    error_code: str = "",
    error_message: str = "",
    signature_valid: bool | None = None,
    external_id: str = "",
    remote_addr: str | None = None,
    method: str = "POST",
) -> CallLog:
    """The call log row of one call, masked and made storable, not yet saved."""
    return CallLog(
        operator=operator,
        direction=direction,
        endpoint=_fit(endpoint, 50),
        method=_fit(method, 10),
        url=_fit(_mask_value(url), 1000),
        request_headers=mask_headers(request_headers),
        request_body=mask_body(request_body),
        response_status=response_status,
        response_body=mask_body(response_body),
        latency_ms=latency_ms,
        outcome=outcome,
        error_code=_fit(error_code, 64),
        error_message=_fit(error_message, 2000),
        signature_valid=signature_valid,
        external_id=_fit(external_id, 64),
        remote_addr=remote_addr,
    )


def call_log_record(**fields: Any) -> CallLog:
    """Write the call log row of one call (see ``call_log_entry``)."""
    entry = call_log_entry(**fields)
    entry.save(force_insert=True)
    return entry


PRUNE_BATCH = 10_000


def calls_prune(*, now: datetime | None = None, keep_days: int | None = None) -> int:
    """Delete call log rows older than ``keep_days`` (``COPYPOOL_CALL_LOG_RETENTION_DAYS``,
    30 by default); returns how many. In batches of the oldest first, so no statement holds
    locks for long and an interrupted run has still removed the oldest."""
    now = now or timezone.now()
    days = settings.COPYPOOL_CALL_LOG_RETENTION_DAYS if keep_days is None else keep_days
    cutoff = now - timedelta(days=days)
    deleted = 0
    while True:
        batch = list(
            CallLog.objects.filter(created_at__lt=cutoff)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if not batch:
            return deleted
        deleted += CallLog.objects.filter(pk__in=batch).delete()[0]
