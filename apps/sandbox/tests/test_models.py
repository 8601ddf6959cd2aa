"""Invariants the database itself enforces, and secrets at rest."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from apps.sandbox.models import (
    SandboxAccount,
    SandboxBet,
    SandboxFault,
    SandboxTransfer,
    SandboxWalletTx,
)
from apps.sandbox.tests.conftest import API_KEY, SECRET_KEY, WALLET_SECRET

pytestmark = pytest.mark.django_db


def refused(callable_) -> bool:
    try:
        with transaction.atomic():
            callable_()
    except IntegrityError:
        return True
    return False


def test_database_refuses_a_negative_balance(streamer):
    assert refused(
        lambda: SandboxAccount.objects.filter(pk=streamer.pk).update(balance=Decimal("-0.00000001"))
    )
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("805")


def test_database_refuses_a_second_account_with_the_same_user_id(operator, streamer):
    assert refused(
        lambda: SandboxAccount.objects.create(
            operator=operator, user_id="streamer-1", username="x", currency="USD"
        )
    )


def test_database_refuses_a_duplicate_transfer_id(operator, streamer):
    def create():
        SandboxTransfer.objects.create(
            operator=operator,
            transfer_id="t",
            user_id="streamer-1",
            transfer_type="DEPOSIT",
            amount=Decimal("1"),
            currency="USD",
            response_status=200,
        )

    create()
    assert refused(create)


def test_database_refuses_a_duplicate_provider_tx_id_and_a_second_rollback(operator, follower):
    def tx(provider_tx_id, kind, rollback_of=""):
        return lambda: SandboxWalletTx.objects.create(
            operator=operator,
            provider_tx_id=provider_tx_id,
            kind=kind,
            account=follower,
            user_id="follower-1",
            amount=Decimal("1"),
            currency="USD",
            rollback_of=rollback_of,
        )

    tx("bet", "withdraw")()
    tx("rb-1", "rollback", "bet")()
    assert refused(tx("bet", "deposit"))
    assert refused(tx("rb-2", "rollback", "bet"))


def test_database_refuses_fault_probability_above_one_and_two_faults_per_route(operator):
    SandboxFault.objects.create(operator=operator, route="auth", mode="error")
    SandboxFault.objects.create(operator=None, route="auth", mode="error")
    assert refused(
        lambda: SandboxFault.objects.create(operator=operator, route="auth", mode="drop")
    )
    assert refused(lambda: SandboxFault.objects.create(operator=None, route="auth", mode="drop"))
    assert refused(
        lambda: SandboxFault.objects.create(
            operator=operator, route="deposit", mode="error", probability=1.01
        )
    )


def test_database_refuses_a_bet_without_stake(streamer):
    assert refused(
        lambda: SandboxBet.objects.create(
            account=streamer, stake=Decimal("0"), payout=Decimal("0"), balance_after=Decimal("1")
        )
    )


def test_secrets_are_encrypted_at_rest(operator):
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key, secret_key, wallet_secret FROM sandbox_sandboxoperator WHERE id = %s",
            [operator.pk],
        )
        stored = cursor.fetchone()
    # then
    for raw, plain in zip(stored, (API_KEY, SECRET_KEY, WALLET_SECRET), strict=True):
        assert plain not in raw
    operator.refresh_from_db()
    assert (operator.api_key, operator.secret_key, operator.wallet_secret) == (
        API_KEY,
        SECRET_KEY,
        WALLET_SECRET,
    )


def test_masked_secrets_show_only_the_tail(operator):
    assert operator.masked_secret_key == "••••••0001"
    assert SECRET_KEY not in operator.masked_secret_key


def test_an_account_with_history_cannot_be_deleted_but_its_operator_can(db):
    # given
    from django.db.models import RestrictedError

    from apps.sandbox.models import SandboxOperator
    from apps.sandbox.tests.factories import populate

    populate("a")
    follower = SandboxAccount.objects.get(user_id="a-f")
    # when / then
    with pytest.raises(RestrictedError):
        follower.delete()
    SandboxOperator.objects.get(slug="a-op").delete()
    assert SandboxAccount.objects.count() == 0
    assert SandboxWalletTx.objects.count() == 0
