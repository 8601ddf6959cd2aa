from django.db.models import Q

from apps.operators.models import Operator, api_key_digest


def operator_get_by_api_key(*, api_key: str) -> Operator | None:
    """The operator that CopyStake issued this inbound ``X-API-KEY`` to, if any."""
    if not api_key:
        return None
    return Operator.objects.filter(api_key_digest=api_key_digest(api_key)).first()


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
