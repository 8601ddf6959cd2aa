"""Reads of the sandbox operator's books."""

from django.db.models import QuerySet

from apps.sandbox.models import SandboxAccount, SandboxBet, SandboxOperator, SandboxUserToken


def sandbox_operator_get(*, slug: str) -> SandboxOperator | None:
    return SandboxOperator.objects.filter(slug=slug).first()


def sandbox_account_get(*, operator: SandboxOperator, user_id: str) -> SandboxAccount | None:
    return SandboxAccount.objects.filter(operator=operator, user_id=user_id).first()


def sandbox_token_get(*, operator: SandboxOperator, token: str) -> SandboxUserToken | None:
    return (
        SandboxUserToken.objects.select_related("account")
        .filter(token=token, account__operator=operator)
        .first()
    )


def sandbox_streamer_accounts(
    *, operator: SandboxOperator | None = None
) -> QuerySet[SandboxAccount]:
    """Streamer accounts with money to play, in a stable order."""
    accounts = SandboxAccount.objects.filter(is_streamer=True, balance__gt=0)
    if operator is not None:
        accounts = accounts.filter(operator=operator)
    return accounts.order_by("pk")


def sandbox_bet_list(*, account: SandboxAccount) -> QuerySet[SandboxBet]:
    return SandboxBet.objects.filter(account=account).order_by("pk")
