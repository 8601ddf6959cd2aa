"""The sandbox operator's business rules: the operator side of both contracts.

Callbacks (seed 000): ``streamer-balance``, ``transfer`` (idempotent by ``id``: a repeat
replays the stored answer), ``game-pool`` (OPEN locks the streamer's cash-outs).
Seamless wallet (seed 003): ``/auth``, ``/withdraw``, ``/deposit``, ``/rollback``, idempotent
by ``providerTxId``; a rollback for an unknown withdraw leaves a ``void`` tombstone that
refuses the withdraw if it arrives later. Credits and rollbacks never need a live session.

Every money movement locks the account row (``select_for_update``) inside one transaction
and writes its record in that same transaction, so a unique-constraint race rolls the money
back together with the losing row.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import wire
from apps.core.errors import ErrorCode
from apps.core.money import ZERO, round_amount_down
from apps.sandbox.errors import SandboxCallbackError, SandboxWalletError, SandboxWithdrawalLocked
from apps.sandbox.models import (
    SandboxAccount,
    SandboxBet,
    SandboxFault,
    SandboxOperator,
    SandboxTransfer,
    SandboxUserToken,
    SandboxWalletTx,
)
from apps.sandbox.selectors import sandbox_streamer_accounts

WalletKind = SandboxWalletTx.Kind


class SandboxWalletReplay(SandboxWalletError):
    """Not a refusal: the stored first answer, sent again (``extra["body"]``) with 200."""


# --- setup -------------------------------------------------------------------------------


@transaction.atomic
def sandbox_operator_create(
    *,
    slug: str,
    name: str,
    api_key: str,
    secret_key: str,
    wallet_client_id: str,
    wallet_secret: str,
) -> SandboxOperator:
    operator = SandboxOperator(
        slug=slug,
        name=name,
        api_key=api_key,
        secret_key=secret_key,
        wallet_client_id=wallet_client_id,
        wallet_secret=wallet_secret,
    )
    operator.full_clean()
    operator.save()
    return operator


@transaction.atomic
def sandbox_account_create(
    *,
    operator: SandboxOperator,
    user_id: str,
    username: str,
    currency: str,
    balance: Decimal,
    is_streamer: bool = False,
) -> SandboxAccount:
    account = SandboxAccount(
        operator=operator,
        user_id=user_id,
        username=username,
        currency=currency,
        balance=balance,
        is_streamer=is_streamer,
    )
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def sandbox_token_issue(*, account: SandboxAccount, ttl_seconds: int = 3600) -> SandboxUserToken:
    """A fresh session token for the account (what a game launch hands the player)."""
    token = SandboxUserToken(
        token=secrets.token_urlsafe(24),
        account=account,
        expires_at=timezone.now() + timedelta(seconds=ttl_seconds),
    )
    token.full_clean()
    token.save()
    return token


# --- callbacks (seed 000) ----------------------------------------------------------------


def _callback_account(*, operator: SandboxOperator, user_id: str, lock: bool) -> SandboxAccount:
    accounts = SandboxAccount.objects.filter(operator=operator, user_id=user_id)
    if lock:
        accounts = accounts.select_for_update()
    account = accounts.first()
    if account is None:
        raise SandboxCallbackError("user does not exist", code=ErrorCode.INVALID_USER)
    return account


def sandbox_streamer_balance(
    *, operator: SandboxOperator, user_id: str, currency: str | None = None
) -> SandboxAccount:
    account = _callback_account(operator=operator, user_id=user_id, lock=False)
    if not account.is_streamer:
        raise SandboxCallbackError(
            "the balance of a user who is not a streamer is not shown",
            code=ErrorCode.BALANCE_FORBIDDEN,
        )
    if currency is not None and currency != account.currency:
        raise SandboxCallbackError(
            f"balance is not available in {currency}", code=ErrorCode.BALANCE_FORBIDDEN
        )
    return account


def sandbox_game_pool_set(*, operator: SandboxOperator, user_id: str, state: str) -> SandboxAccount:
    """Record OPEN / CLOSE: while OPEN the streamer cannot cash out."""
    if state not in (SandboxAccount.PoolState.OPEN, SandboxAccount.PoolState.CLOSE):
        raise SandboxCallbackError("state must be OPEN or CLOSE")
    with transaction.atomic():
        account = _callback_account(operator=operator, user_id=user_id, lock=True)
        if account.pool_state != state:
            account.pool_state = state
            account.pool_state_changed_at = timezone.now()
            account.save(update_fields=["pool_state", "pool_state_changed_at", "updated_at"])
    return account


def _error_body(code: str, message: str) -> str:
    return wire.dumps({"errorCode": code, "errorMessage": message}).decode()


class _TransferFields(TypedDict):
    """What a ``transfer`` asks for, besides its id: a repeat must ask for exactly this."""

    user_id: str
    transfer_type: str
    amount: Decimal
    currency: str


def _same_transfer(
    stored: SandboxTransfer, *, user_id: str, transfer_type: str, amount: Decimal, currency: str
) -> bool:
    return (
        stored.user_id == user_id
        and stored.transfer_type == transfer_type
        and stored.amount == amount
        and stored.currency == currency
    )


def sandbox_transfer_apply(
    *,
    operator: SandboxOperator,
    transfer_id: str,
    user_id: str,
    transfer_type: str,
    amount: Decimal,
    currency: str,
) -> SandboxTransfer:
    """Apply a ``transfer`` once; its stored answer (success or definite error) is replayed.

    The returned record's ``response_status`` and ``response_body`` are the answer to send.
    The same ``id`` with a different payload raises ``ErrorCode.UNKNOWN`` and moves nothing.
    """
    if transfer_type not in SandboxTransfer.Type.values:
        raise SandboxCallbackError("type must be DEPOSIT or WITHDRAWAL")
    if amount <= 0:
        raise SandboxCallbackError("amount must be positive")
    fields: _TransferFields = {
        "user_id": user_id,
        "transfer_type": transfer_type,
        "amount": amount,
        "currency": currency,
    }
    try:
        return _transfer_apply_once(operator=operator, transfer_id=transfer_id, **fields)
    except IntegrityError:
        # A concurrent request with the same id won the insert: replay what it stored.
        stored = SandboxTransfer.objects.filter(operator=operator, transfer_id=transfer_id).first()
        if stored is None:
            raise
        return _replay(stored, **fields)


def _replay(stored: SandboxTransfer, **fields: Unpack[_TransferFields]) -> SandboxTransfer:
    if not _same_transfer(stored, **fields):
        raise SandboxCallbackError(
            f"transfer {stored.transfer_id} was already used with a different payload"
        )
    if stored.operator.ignores_transfer_ids and stored.succeeded:
        return _transfer_apply_again(stored)
    return stored


def _transfer_apply_again(stored: SandboxTransfer) -> SandboxTransfer:
    """Misbehaviour ``ignores_transfer_ids``: a repeated id moves the money once more, and
    the answer (unsaved) carries the new balance, as an operator without idempotency would."""
    with transaction.atomic():
        account = SandboxAccount.objects.select_for_update().get(pk=stored.account_id or 0)
        if stored.transfer_type == SandboxTransfer.Type.DEPOSIT:
            account.balance += stored.amount
        elif account.balance >= stored.amount:
            account.balance -= stored.amount
        account.save(update_fields=["balance", "updated_at"])
    stored.balance_after = account.balance
    stored.response_body = wire.dumps(
        {"balance": account.balance, "currency": account.currency}
    ).decode()
    return stored


@transaction.atomic
def _transfer_apply_once(
    *,
    operator: SandboxOperator,
    transfer_id: str,
    user_id: str,
    transfer_type: str,
    amount: Decimal,
    currency: str,
) -> SandboxTransfer:
    fields: _TransferFields = {
        "user_id": user_id,
        "transfer_type": transfer_type,
        "amount": amount,
        "currency": currency,
    }
    account = (
        SandboxAccount.objects.select_for_update()
        .filter(operator=operator, user_id=user_id)
        .first()
    )
    # Looked up after the lock: a same-id request may have committed while we waited.
    stored = SandboxTransfer.objects.filter(operator=operator, transfer_id=transfer_id).first()
    if stored is not None:
        return _replay(stored, **fields)
    record = SandboxTransfer(operator=operator, transfer_id=transfer_id, account=account, **fields)
    refusal = _transfer_refusal(account, **fields)
    if refusal is not None:
        code, message = refusal
        record.response_status = 400
        record.response_body = _error_body(code, message)
    else:
        assert account is not None  # _transfer_refusal refuses a missing account
        if transfer_type == SandboxTransfer.Type.DEPOSIT:
            account.balance += amount
        else:
            account.balance -= amount
        account.save(update_fields=["balance", "updated_at"])
        record.succeeded = True
        record.balance_after = account.balance
        record.response_status = 200
        record.response_body = wire.dumps(
            {"balance": account.balance, "currency": account.currency}
        ).decode()
    record.save()
    return record


def _transfer_refusal(
    account: SandboxAccount | None,
    *,
    user_id: str,
    transfer_type: str,
    amount: Decimal,
    currency: str,
) -> tuple[str, str] | None:
    if account is None:
        return ErrorCode.INVALID_USER, "user does not exist"
    if not account.is_streamer:
        return ErrorCode.TRANSFER_FORBIDDEN, "transfers are allowed for streamers only"
    if currency != account.currency:
        return ErrorCode.UNKNOWN, f"currency {currency} does not match the account's"
    if transfer_type == SandboxTransfer.Type.WITHDRAWAL and account.balance < amount:
        return ErrorCode.INSUFFICIENT_BALANCE, "insufficient streamer balance"
    return None


# --- streamer cash-out (the withdrawal lock) ---------------------------------------------


@transaction.atomic
def sandbox_cashout(*, account: SandboxAccount, amount: Decimal) -> SandboxAccount:
    """The streamer moves money off the operator's site: refused while the pool is OPEN."""
    locked = SandboxAccount.objects.select_for_update().get(pk=account.pk)
    if locked.is_withdrawal_locked:
        raise SandboxWithdrawalLocked()
    if amount <= 0:
        raise SandboxCallbackError("amount must be positive")
    if locked.balance < amount:
        raise SandboxCallbackError("insufficient balance", code=ErrorCode.INSUFFICIENT_BALANCE)
    locked.balance -= amount
    locked.save(update_fields=["balance", "updated_at"])
    account.balance = locked.balance
    return locked


# --- seamless wallet (seed 003) ----------------------------------------------------------


def _wallet_error(status: int, message: str) -> SandboxWalletError:
    return SandboxWalletError(message, status=status)


def sandbox_wallet_auth(
    *, operator: SandboxOperator, user_token: str | None, currency: str
) -> SandboxAccount:
    token = (
        SandboxUserToken.objects.select_related("account")
        .filter(token=user_token, account__operator=operator)
        .first()
        if user_token
        else None
    )
    if token is None:
        raise _wallet_error(401, "Invalid token")
    if token.is_expired:
        raise _wallet_error(403, "Expired token")
    if currency != token.account.currency:
        raise _wallet_error(403, f"Currency {currency} does not match the account")
    return token.account


@dataclass(frozen=True)
class WalletMove:
    operator: SandboxOperator
    user_id: str
    amount: Decimal
    currency: str
    game: str
    provider_tx_id: str
    user_token: str | None = None


def _lock_wallet_account(move: WalletMove) -> SandboxAccount:
    account = (
        SandboxAccount.objects.select_for_update()
        .filter(operator=move.operator, user_id=move.user_id)
        .first()
    )
    if account is None:
        raise _wallet_error(401, "Unknown user")
    return account


def _existing_refusal(move: WalletMove) -> SandboxWalletError | None:
    existing = SandboxWalletTx.objects.filter(
        operator=move.operator, provider_tx_id=move.provider_tx_id
    ).first()
    if existing is None:
        return None
    if existing.kind == WalletKind.VOID and existing.status == SandboxWalletTx.Status.VOID:
        return _wallet_error(403, "Transaction was rolled back before it arrived")
    return _duplicate(move.operator, "The transaction already exists", existing)


def _duplicate(
    operator: SandboxOperator, message: str, existing: SandboxWalletTx | None
) -> SandboxWalletError:
    """The answer to a repeated ``providerTxId``: 409, or (misbehaviour
    ``no_wallet_duplicate_409``) the first answer again with 200."""
    if operator.no_wallet_duplicate_409 and existing is not None and existing.response_body:
        return SandboxWalletReplay(message, status=200, extra={"body": existing.response_body})
    return _wallet_error(409, message)


def _wallet_tx_record(
    move: WalletMove, account: SandboxAccount, *, kind: str, old: Decimal, rollback_of: str = ""
) -> SandboxWalletTx:
    tx = SandboxWalletTx(
        operator=move.operator,
        provider_tx_id=move.provider_tx_id,
        kind=kind,
        account=account,
        user_id=account.user_id,
        amount=move.amount,
        currency=move.currency,
        game=move.game,
        rollback_of=rollback_of,
        old_balance=old,
        new_balance=account.balance,
        response_status=200,
    )
    tx.response_body = wire.dumps({"code": 200, "message": "", "data": wallet_tx_data(tx)}).decode()
    tx.save()
    return tx


def wallet_tx_data(tx: SandboxWalletTx) -> dict[str, Any]:
    """The ``data`` object of a successful withdraw, deposit or rollback answer."""
    return {
        "clientTxId": str(tx.client_tx_id),
        "providerTxId": tx.provider_tx_id,
        "newBalance": tx.new_balance,
        "oldBalance": tx.old_balance,
        "userId": tx.user_id,
        "currency": tx.currency,
    }


def _after_race(move: WalletMove, error: IntegrityError) -> SandboxWalletError:
    refusal = _existing_refusal(move)
    if refusal is None:
        raise error
    return refusal


def sandbox_wallet_withdraw(
    *,
    operator: SandboxOperator,
    user_id: str,
    user_token: str | None,
    amount: Decimal,
    currency: str,
    game: str,
    provider_tx_id: str,
) -> SandboxWalletTx:
    """The BET: debit a live session's balance once per ``providerTxId``."""
    move = WalletMove(operator, user_id, amount, currency, game, provider_tx_id, user_token)
    if amount <= 0:
        raise _wallet_error(400, "Amount must be positive")
    try:
        return _withdraw(move)
    except IntegrityError as error:
        raise _after_race(move, error) from error


@transaction.atomic
def _withdraw(move: WalletMove) -> SandboxWalletTx:
    account = _lock_wallet_account(move)
    token = (
        SandboxUserToken.objects.filter(token=move.user_token, account=account).first()
        if move.user_token
        else None
    )
    if token is None:
        raise _wallet_error(401, "Invalid token")
    refusal = _existing_refusal(move)
    if refusal is not None:
        raise refusal
    if token.is_expired:
        raise _wallet_error(403, "Expired token")
    if move.currency != account.currency:
        raise _wallet_error(403, f"Currency {move.currency} does not match the account")
    if account.balance < move.amount:
        raise _wallet_error(402, "Insufficient balance")
    old = account.balance
    account.balance -= move.amount
    account.save(update_fields=["balance", "updated_at"])
    return _wallet_tx_record(move, account, kind=WalletKind.WITHDRAW, old=old)


def sandbox_wallet_deposit(
    *,
    operator: SandboxOperator,
    user_id: str,
    amount: Decimal,
    currency: str,
    game: str,
    provider_tx_id: str,
    user_token: str | None = None,
) -> SandboxWalletTx:
    """The WIN: credit once per ``providerTxId``; an expired or unknown session is no reason
    to refuse a credit, and an amount of 0 is valid (it closes the round)."""
    move = WalletMove(operator, user_id, amount, currency, game, provider_tx_id, user_token)
    if amount < 0:
        raise _wallet_error(400, "Amount must not be negative")
    try:
        return _deposit(move)
    except IntegrityError as error:
        raise _after_race(move, error) from error


@transaction.atomic
def _deposit(move: WalletMove) -> SandboxWalletTx:
    account = _lock_wallet_account(move)
    existing = SandboxWalletTx.objects.filter(
        operator=move.operator, provider_tx_id=move.provider_tx_id
    ).first()
    if existing is not None:
        raise _duplicate(move.operator, "The transaction already exists", existing)
    if move.currency != account.currency:
        raise _wallet_error(403, f"Currency {move.currency} does not match the account")
    old = account.balance
    account.balance += move.amount
    account.save(update_fields=["balance", "updated_at"])
    return _wallet_tx_record(move, account, kind=WalletKind.DEPOSIT, old=old)


def sandbox_wallet_rollback(
    *,
    operator: SandboxOperator,
    user_id: str,
    amount: Decimal,
    currency: str,
    game: str,
    provider_tx_id: str,
    rollback_provider_tx_id: str,
    user_token: str | None = None,
) -> SandboxWalletTx:
    """Refund a withdraw. ``provider_tx_id`` is the rollback's own id.

    Unknown withdraw: a ``void`` tombstone is committed for ``rollback_provider_tx_id`` and
    408 is raised (again on every retry); the withdraw is refused if it arrives later.
    """
    move = WalletMove(operator, user_id, amount, currency, game, provider_tx_id, user_token)
    if amount < 0:
        raise _wallet_error(400, "Amount must not be negative")
    if provider_tx_id == rollback_provider_tx_id:
        raise _wallet_error(400, "A rollback needs its own providerTxId")
    try:
        tx = _rollback(move, rollback_provider_tx_id)
    except IntegrityError:
        # Lost a race (the withdraw, its tombstone or another rollback was inserted
        # meanwhile): a second pass sees the winner's row and answers from it.
        try:
            tx = _rollback(move, rollback_provider_tx_id)
        except IntegrityError as error:
            raise _after_race(move, error) from error
    if tx.kind == WalletKind.VOID:
        raise _wallet_error(408, "Transaction not found")
    return tx


@transaction.atomic
def _rollback(move: WalletMove, rollback_of: str) -> SandboxWalletTx:
    # Lock order is account, then transactions, as in withdraw and deposit: a tombstone's
    # insert must not wait for the account while a withdraw holds it and waits for the id.
    account = (
        SandboxAccount.objects.select_for_update()
        .filter(operator=move.operator, user_id=move.user_id)
        .first()
    )
    existing = SandboxWalletTx.objects.filter(
        operator=move.operator, provider_tx_id=move.provider_tx_id
    ).first()
    if existing is not None:
        raise _duplicate(move.operator, "The rollback transaction already exists", existing)
    original = (
        SandboxWalletTx.objects.select_for_update()
        .filter(operator=move.operator, provider_tx_id=rollback_of)
        .first()
    )
    if original is None:
        return SandboxWalletTx.objects.create(
            operator=move.operator,
            provider_tx_id=rollback_of,
            kind=WalletKind.VOID,
            status=SandboxWalletTx.Status.VOID,
            account=account,
            user_id=move.user_id,
            amount=move.amount,
            currency=move.currency,
            game=move.game,
            response_status=408,
        )
    if original.kind == WalletKind.VOID:
        return original  # the retry of a rollback that was answered 408
    if original.kind != WalletKind.WITHDRAW:
        raise _wallet_error(408, "Transaction not found")
    already = SandboxWalletTx.objects.filter(
        operator=move.operator, kind=WalletKind.ROLLBACK, rollback_of=rollback_of
    ).exists()
    if already or original.status == SandboxWalletTx.Status.ROLLED_BACK:
        raise _wallet_error(409, "The transaction was already rolled back")
    if (
        original.user_id != move.user_id
        or original.amount != move.amount
        or original.currency != move.currency
    ):
        raise _wallet_error(403, "User, amount or currency differ from the withdraw")
    if account is None:
        raise _wallet_error(401, "Unknown user")
    old = account.balance
    account.balance += move.amount
    account.save(update_fields=["balance", "updated_at"])
    original.status = SandboxWalletTx.Status.ROLLED_BACK
    original.save(update_fields=["status"])
    return _wallet_tx_record(
        move, account, kind=WalletKind.ROLLBACK, old=old, rollback_of=rollback_of
    )


# --- fault injection ---------------------------------------------------------------------


@transaction.atomic
def sandbox_fault_set(
    *,
    operator: SandboxOperator | None,
    route: str,
    mode: str,
    probability: float = 1.0,
    latency_ms: int = 0,
    remaining: int | None = None,
    error_code: str = "",
) -> SandboxFault:
    """Install (or replace) the fault of ``route`` for ``operator`` (``None``: every operator)."""
    fault = SandboxFault.objects.select_for_update().filter(
        operator=operator, route=route
    ).first() or SandboxFault(operator=operator, route=route)
    fault.mode = mode
    fault.probability = probability
    fault.latency_ms = latency_ms
    fault.remaining = remaining
    fault.error_code = error_code
    fault.enabled = True
    fault.fired_count = 0
    fault.full_clean()
    fault.save()
    return fault


@transaction.atomic
def sandbox_faults_clear(*, operator: SandboxOperator | None = None) -> int:
    """Remove the faults of ``operator`` (its own ones); ``None`` removes every fault."""
    faults = SandboxFault.objects.all()
    if operator is not None:
        faults = faults.filter(operator=operator)
    deleted, _ = faults.delete()
    return deleted


# --- streamer-play simulator -------------------------------------------------------------


def sandbox_play_round(
    *,
    operator: SandboxOperator | None = None,
    rtp: Decimal = Decimal("0.96"),
    rng: random.Random | None = None,
) -> list[SandboxBet]:
    """Every streamer with money places one bet, settled at once.

    The stake is a random 1.00%-5.00% of the balance (rounded down to 8 places); the bet
    pays 2x the stake with probability ``rtp / 2`` and nothing otherwise, so the expected
    payout is ``rtp`` times the stake. Each account is locked while its bet settles, so a
    transfer arriving meanwhile prices on the settled balance.
    """
    if not Decimal(0) <= rtp <= Decimal(2):
        raise ValueError("rtp must be between 0 and 2 for a 2x-or-nothing bet")
    rng = rng or random.Random()
    win_probability = float(rtp) / 2
    bets = []
    for account_id in list(
        sandbox_streamer_accounts(operator=operator).values_list("pk", flat=True)
    ):
        percent = Decimal(rng.randint(100, 500)) / Decimal(10000)
        wins = rng.random() < win_probability
        bet = _play_one(account_id=account_id, percent=percent, wins=wins)
        if bet is not None:
            bets.append(bet)
    return bets


def sandbox_play_bet(*, account: SandboxAccount, percent: Decimal, wins: bool) -> bool:
    """One settled bet of ``percent`` (0 to 1) of the streamer's balance: paid 2x or lost.
    ``percent=1`` and a loss take the balance to zero (a bust). False when nothing was staked.
    """
    if not Decimal(0) < percent <= Decimal(1):
        raise ValueError("percent must be above 0 and at most 1")
    return _play_one(account_id=account.pk, percent=percent, wins=wins) is not None


@transaction.atomic
def _play_one(*, account_id: int, percent: Decimal, wins: bool) -> SandboxBet | None:
    account = SandboxAccount.objects.select_for_update().get(pk=account_id)
    stake = round_amount_down(account.balance * percent)
    if stake <= ZERO:
        return None
    payout = stake * 2 if wins else ZERO
    account.balance = account.balance - stake + payout
    account.save(update_fields=["balance", "updated_at"])
    return SandboxBet.objects.create(
        account=account, stake=stake, payout=payout, balance_after=account.balance
    )
