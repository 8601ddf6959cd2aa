from django.db.models import Q
from django.utils import timezone

from apps.operators.models import Operator, api_key_digest


def operator_get_by_api_key(*, api_key: str) -> Operator | None:
    """The operator that CopyStake issued this inbound ``X-API-KEY`` to, if any: its current
    key, or the key a rotation replaced while the rotation's overlap window is open.

    One query. An empty previous digest (no rotation, or one finished) never matches, whatever
    the digest; should a key be one operator's current and another's previous, the current one
    wins.
    """
    if not api_key:
        return None
    digest = api_key_digest(api_key)
    in_overlap = Q(previous_api_key_digest=digest, rotation_overlap_until__gt=timezone.now()) & ~Q(
        previous_api_key_digest=""
    )
    matches = list(
        Operator.objects.filter(Q(api_key_digest=digest) | in_overlap).order_by("pk")[:2]
    )
    return min(matches, key=lambda operator: operator.api_key_digest != digest, default=None)


def operator_get_by_name_or_code(*, name_or_code: str) -> Operator | None:
    """Exact name first, then code (case-insensitive), so either identifies an operator."""
    value = (name_or_code or "").strip()
    if not value:
        return None
    return (
        Operator.objects.filter(name=value).first()
        or Operator.objects.filter(Q(code__iexact=value) | Q(name__iexact=value))
        .order_by("pk")
        .first()
    )
