"""Creating operators and rotating their credentials.

Plain credentials are returned exactly once, by the call that generates them. The inbound API
key is kept only as a SHA-256 digest plus its last four characters; the other secrets are
encrypted at rest by their model fields.
"""

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.core.errors import ErrorCode
from apps.operators import clients
from apps.operators.models import Operator, api_key_digest

LIMIT_FIELDS = frozenset(
    {
        "enabled",
        "ip_allowlist",
        "session_ttl_seconds",
        "min_contribution",
        "max_contribution",
        "max_followers_per_pool",
        "max_pool_value",
        "request_timeout_seconds",
        "default_stop_loss_percent",
        "default_performance_fee_percent",
    }
)
CREDENTIALS = ("api_key", "operator_api_key", "secret_key", "wallet_secret")
MAX_CREDENTIAL_LENGTH = 256
# How long the replaced inbound key and signing secret keep working after operator_rotate_keys.
MAX_ROTATION_OVERLAP = timedelta(days=7)
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
ROTATION_FIELDS = (
    "api_key_digest",
    "api_key_hint",
    "secret_key",
    "previous_api_key_digest",
    "previous_secret_key",
    "rotation_overlap_until",
)


def _generate(which: str) -> str:
    if which in ("api_key", "operator_api_key"):
        # The contract's examples are UUIDs; 122 random bits are plenty for a lookup key.
        return str(uuid.uuid4())
    return secrets.token_urlsafe(48)


def _checked(which: str, value: str | None) -> str:
    if value is None:
        return _generate(which)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({which: "must not be empty"})
    if value != value.strip() or len(value) > MAX_CREDENTIAL_LENGTH:
        raise ValidationError(
            {which: f"must have no surrounding spaces and at most {MAX_CREDENTIAL_LENGTH} chars"}
        )
    return value


def _set_api_key(operator: Operator, api_key: str) -> None:
    operator.api_key_digest = api_key_digest(api_key)
    operator.api_key_hint = api_key[-4:]


@transaction.atomic
def operator_create(
    *,
    name: str,
    callback_url: str,
    wallet_url: str,
    api_key: str | None = None,
    operator_api_key: str | None = None,
    secret_key: str | None = None,
    wallet_client_id: str | None = None,
    wallet_secret: str | None = None,
    code: str | None = None,
    **limits: object,
) -> tuple[Operator, dict[str, str]]:
    """Create an operator; returns it and its plain credentials (shown this once only).

    ``limits`` may set any of ``LIMIT_FIELDS``. Raises ``ValidationError`` on bad input, in
    which case nothing is created.
    """
    unknown = set(limits) - LIMIT_FIELDS
    if unknown:
        raise ValidationError(f"Unknown operator settings: {', '.join(sorted(unknown))}")
    name = (name or "").strip()
    code = slugify(code if code is not None else name)
    if not code:
        raise ValidationError({"code": "cannot be derived from the name; give one"})
    credentials = {
        "api_key": _checked("api_key", api_key),
        "operator_api_key": _checked("operator_api_key", operator_api_key),
        "secret_key": _checked("secret_key", secret_key),
        "wallet_client_id": _checked(
            "wallet_client_id", wallet_client_id if wallet_client_id is not None else code
        ),
        "wallet_secret": _checked("wallet_secret", wallet_secret),
    }
    if Operator.objects.filter(api_key_digest=api_key_digest(credentials["api_key"])).exists():
        raise ValidationError({"api_key": "is already in use by another operator"})
    operator = Operator(
        name=name,
        code=code,
        callback_url=(callback_url or "").rstrip("/"),
        wallet_url=(wallet_url or "").rstrip("/"),
        operator_api_key=credentials["operator_api_key"],
        secret_key=credentials["secret_key"],
        wallet_client_id=credentials["wallet_client_id"],
        wallet_secret=credentials["wallet_secret"],
        **limits,
    )
    _set_api_key(operator, credentials["api_key"])
    operator.full_clean()
    operator.save()
    return operator, credentials


@transaction.atomic
def operator_rotate_credential(*, operator: Operator, which: str) -> str:
    """Replace one credential with a fresh random value and return it (shown this once only)."""
    if which not in CREDENTIALS:
        raise ValidationError(f"Unknown credential {which!r}; one of {', '.join(CREDENTIALS)}")
    value = _generate(which)
    # Immediate means immediate: a replaced value kept by a rotation's overlap window stops
    # working too (e.g. a leaked key), while the other credential's window runs on.
    if which == "api_key":
        _set_api_key(operator, value)
        operator.previous_api_key_digest = ""
        fields = ["api_key_digest", "api_key_hint", "previous_api_key_digest"]
    elif which == "secret_key":
        operator.secret_key = value
        operator.previous_secret_key = ""
        fields = ["secret_key", "previous_secret_key"]
    else:
        setattr(operator, which, value)
        fields = [which]
    if (
        not operator.previous_api_key_digest
        and not operator.previous_secret_key
        and operator.rotation_overlap_until is not None
    ):
        operator.rotation_overlap_until = None
        fields.append("rotation_overlap_until")
    operator.full_clean()
    operator.save(update_fields=[*fields, "updated_at"])
    return value


def _locked(operator: Operator) -> Operator:
    """The operator's row, locked for this transaction and read afresh."""
    return Operator.objects.select_for_update().get(pk=operator.pk)


def _refresh_rotation(operator: Operator, source: Operator) -> None:
    for field in ROTATION_FIELDS:
        setattr(operator, field, getattr(source, field))


@transaction.atomic
def operator_rotate_keys(
    *, operator: Operator, overlap: timedelta = DEFAULT_ROTATION_OVERLAP
) -> dict[str, str]:
    """Replace the inbound API key and the signing secret together, with an overlap window.

    Returns ``{"api_key": ..., "secret_key": ...}``, the new plain values (shown this once
    only). Until ``now + overlap`` the replaced key and secret are accepted inbound as well as
    the new ones, and CopyStake keeps signing its calls to the operator with the replaced
    secret (``Operator.outbound_secret``); after it, or after ``operator_finish_rotation``,
    only the new ones work. ``overlap`` of zero replaces both at once, keeping nothing.

    Raises ``ValidationError``, changing nothing, when ``overlap`` is outside 0 to
    ``MAX_ROTATION_OVERLAP`` or when a rotation's window is still open.
    """
    if not isinstance(overlap, timedelta) or not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise ValidationError(
            {"overlap": f"must be between 0 and {MAX_ROTATION_OVERLAP.days} days"}
        )
    locked = _locked(operator)
    now = timezone.now()
    if locked.rotation_in_overlap(now):
        deadline = timezone.localtime(locked.rotation_overlap_until).isoformat(timespec="seconds")
        raise ValidationError(f"Finish the rotation in progress first (until {deadline}).")
    credentials = {"api_key": _generate("api_key"), "secret_key": _generate("secret_key")}
    if overlap:
        locked.previous_api_key_digest = locked.api_key_digest
        locked.previous_secret_key = locked.secret_key
        locked.rotation_overlap_until = now + overlap
    else:
        locked.previous_api_key_digest = ""
        locked.previous_secret_key = ""
        locked.rotation_overlap_until = None
    _set_api_key(locked, credentials["api_key"])
    locked.secret_key = credentials["secret_key"]
    locked.full_clean()
    locked.save(update_fields=[*ROTATION_FIELDS, "updated_at"])
    _refresh_rotation(operator, locked)
    operator.updated_at = locked.updated_at
    return credentials


@transaction.atomic
def operator_finish_rotation(*, operator: Operator) -> Operator:
    """End a rotation's overlap window now: only the new key and secret work from here on
    (and outbound calls are signed with the new secret). Does nothing when none is open."""
    locked = _locked(operator)
    if (
        locked.previous_api_key_digest
        or locked.previous_secret_key
        or locked.rotation_overlap_until is not None
    ):
        locked.previous_api_key_digest = ""
        locked.previous_secret_key = ""
        locked.rotation_overlap_until = None
        locked.save(
            update_fields=[
                "previous_api_key_digest",
                "previous_secret_key",
                "rotation_overlap_until",
                "updated_at",
            ]
        )
        operator.updated_at = locked.updated_at
    _refresh_rotation(operator, locked)
    return operator


@transaction.atomic
def operator_set_enabled(*, operator: Operator, enabled: bool) -> Operator:
    operator.enabled = enabled
    operator.save(update_fields=["enabled", "updated_at"])
    return operator


# --- connection check (the back office) ------------------------------------------------

# Answers that prove the operator checked our key and signature and then looked at the user.
USER_LEVEL_CODES = frozenset(
    {ErrorCode.INVALID_USER, ErrorCode.BALANCE_FORBIDDEN, ErrorCode.OPEN_SESSION_NOT_FOUND}
)
CONNECTION_TEST_USER = "copypool-connection-test"


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    verdict: str
    outcome: str
    status: int | None
    error_code: str
    latency_ms: int
    user_id: str
    balance: Decimal | None = None


def operator_test_connection(*, operator: Operator, user_id: str | None = None) -> ConnectionCheck:
    """A signed ``streamer-balance`` call (logged like any other): does the operator answer,
    and does it accept our key and signature?

    Asks for one of the operator's streamers (or ``user_id``); an answer about the user
    (unknown user, balance forbidden) still proves the credentials were accepted.
    """
    streamer = operator.streamers.order_by("pk").first() if user_id is None else None
    user_id = user_id or (streamer.operator_user_id if streamer else CONNECTION_TEST_USER)
    started = time.monotonic()
    result = clients.streamer_balance(
        operator, user_id=user_id, currency=streamer.currency if streamer else None
    )
    latency_ms = int((time.monotonic() - started) * 1000)
    code = result.error_code
    if result.ok:
        balance = result.amount("balance")
        currency = result.data.get("currency") or ""
        ok, verdict = True, f"Connected: signed call accepted; {user_id} has {balance} {currency}"
    elif result.refused and code in USER_LEVEL_CODES:
        balance = None
        ok, verdict = (
            True,
            f"Connected: signature accepted; the operator answered {code} for {user_id}",
        )
    elif result.refused and result.status in (401, 403):
        balance = None
        ok = False
        verdict = (
            f"Rejected: the operator refused our API key or signature ({result.status} {code})"
        )
    elif result.refused:
        balance = None
        ok, verdict = False, f"Refused: HTTP {result.status} {code} {result.error_message}".strip()
    else:
        balance = None
        ok, verdict = False, f"No usable answer: {code} {result.error_message}".strip()
    return ConnectionCheck(
        ok=ok,
        verdict=verdict[:500],
        outcome=result.outcome,
        status=result.status,
        error_code=code,
        latency_ms=latency_ms,
        user_id=user_id,
        balance=balance,
    )
