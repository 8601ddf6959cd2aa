from apps.operators.models import Operator
from apps.transactions.models import Transaction


def transaction_get_for_operator(*, operator: Operator, external_id: str) -> Transaction | None:
    """The operator's transaction with this external id (the id the operator was sent; a
    performance fee is never sent)."""
    if not external_id:
        return None
    return (
        Transaction.objects.filter(operator=operator, external_id=external_id)
        .exclude(kind=Transaction.Kind.PERFORMANCE_FEE)
        .first()
    )
