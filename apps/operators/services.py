"""Creating operators and rotating their credentials.

Plain credentials are returned exactly once, by the call that generates them. The inbound API
key is kept only as a SHA-256 digest plus its last four characters; the other secrets are
encrypted at rest by their model fields.
"""

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from apps.operators.models import Operator, api_key_digest

LIMIT_FIELDS = frozenset(
    {
        "enabled",
        "ip_allowlist",
        "session_ttl_seconds",
        "min_contribution",
        "max_contribution",
        "max_followers_per_pool",
        "request_timeout_seconds",
    }
)
CREDENTIALS = ("api_key", "operator_api_key", "secret_key", "wallet_secret")
MAX_CREDENTIAL_LENGTH = 256


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
    **limits,
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
    if which == "api_key":
        _set_api_key(operator, value)
        fields = ["api_key_digest", "api_key_hint"]
    else:
        setattr(operator, which, value)
        fields = [which]
    operator.full_clean()
    operator.save(update_fields=[*fields, "updated_at"])
    return value


@transaction.atomic
def operator_set_enabled(*, operator: Operator, enabled: bool) -> Operator:
    operator.enabled = enabled
    operator.save(update_fields=["enabled", "updated_at"])
    return operator
