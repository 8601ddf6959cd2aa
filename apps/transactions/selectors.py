from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from apps.followers.models import Follower
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


@dataclass(frozen=True)
class NetResult:
    """One currency's money between a follower's wallet and CopyPool, from the wallet's
    movements: what was debited (BETs the wallet took, a refunded one too), what came back
    (WINs and refunds of BETs), and what is still in doubt (not settled either way)."""

    currency: str
    debited: Decimal = Decimal(0)
    returned: Decimal = Decimal(0)
    in_doubt: int = 0
    in_doubt_amount: Decimal = Decimal(0)

    @property
    def net(self) -> Decimal:
        """What the follower is up (positive) or down (negative): returned less debited."""
        return self.returned - self.debited


# A BET took the money when it succeeded, and also when it was refunded since (the refund is
# its own movement, counted as returned).
DEBITED = Q(kind=Transaction.Kind.FOLLOWER_DEBIT) & Q(
    status__in=[Transaction.Status.SUCCEEDED, Transaction.Status.ROLLED_BACK]
)
RETURNED = Q(
    kind__in=[Transaction.Kind.FOLLOWER_CREDIT, Transaction.Kind.FOLLOWER_ROLLBACK],
    status=Transaction.Status.SUCCEEDED,
)
WALLET_KINDS = [
    Transaction.Kind.FOLLOWER_DEBIT,
    Transaction.Kind.FOLLOWER_CREDIT,
    Transaction.Kind.FOLLOWER_ROLLBACK,
]
IN_DOUBT = Q(
    kind__in=WALLET_KINDS, status__in=[Transaction.Status.PENDING, Transaction.Status.UNKNOWN]
)


def follower_net_result(*, follower: Follower) -> list[NetResult]:
    """Per currency (alphabetically), the follower's net result from their wallet movements:
    one query, whatever the number of transactions. Failed movements moved nothing; the
    transfers between the streamer and the pool are not the follower's money."""
    rows = (
        Transaction.objects.filter(follower=follower, kind__in=WALLET_KINDS)
        .order_by()
        .values("currency")
        .annotate(
            debited=Sum("amount", filter=DEBITED),
            returned=Sum("amount", filter=RETURNED),
            in_doubt=Count("pk", filter=IN_DOUBT),
            in_doubt_amount=Sum("amount", filter=IN_DOUBT),
        )
        .order_by("currency")
    )
    return [
        NetResult(
            currency=row["currency"],
            debited=row["debited"] or Decimal(0),
            returned=row["returned"] or Decimal(0),
            in_doubt=row["in_doubt"],
            in_doubt_amount=row["in_doubt_amount"] or Decimal(0),
        )
        for row in rows
    ]
