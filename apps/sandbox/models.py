"""The sandbox operator's own books: accounts, sessions, transfers, wallet transactions.

Everything here is the *operator's* side of the two contracts (seed 000 callbacks and the
seed 003 seamless wallet). It shares nothing with the CopyStake side's models on purpose.
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import ErrorCode
from apps.core.fields import EncryptedTextField, mask_secret, masked
from apps.core.money import ZERO, amount_field_kwargs


class SandboxOperator(models.Model):
    """A simulated casino operator, reachable under ``/sandbox/<slug>/``."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    # The key this operator issued to CopyStake: inbound callbacks carry it in X-API-KEY.
    api_key = EncryptedTextField()
    # Signs and verifies X-REQUEST-SIGNATURE (issued by CopyStake, used both ways).
    secret_key = EncryptedTextField()
    wallet_client_id = models.CharField(max_length=200)
    wallet_secret = EncryptedTextField()

    # Misbehaviour switches: an operator integration with a classic mistake, on purpose
    # (for tests, and for operators to see what the conformance check reports).
    uses_wrong_secret = models.BooleanField(
        default=False,
        help_text="Misbehaviour: verify signatures with a wrong secret (and wallet secret): "
        "every correctly signed request is refused.",
    )
    ignores_transfer_ids = models.BooleanField(
        default=False,
        help_text="Misbehaviour: no idempotency on transfers: a repeated id moves money again.",
    )
    no_wallet_duplicate_409 = models.BooleanField(
        default=False,
        help_text="Misbehaviour: a repeated providerTxId answers 200 (the first answer) "
        "instead of 409.",
    )
    wrong_error_codes = models.BooleanField(
        default=False,
        help_text=f"Misbehaviour: every callback refusal carries {ErrorCode.UNKNOWN} instead of "
        "its documented code.",
    )
    accepts_bad_signatures = models.BooleanField(
        default=False,
        help_text="Misbehaviour: signatures are not checked (the API key, client id and "
        "timestamp still are).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = "sandbox operator"

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    masked_api_key = masked("api_key", "API key")
    masked_secret_key = masked("secret_key", "Secret key")
    masked_wallet_secret = masked("wallet_secret", "Wallet secret")


class SandboxAccount(models.Model):
    """A player account at the operator: streamers and followers alike."""

    class PoolState(models.TextChoices):
        NONE = "", "No pool"
        OPEN = "OPEN", "OPEN (withdrawals locked)"
        CLOSE = "CLOSE", "CLOSE"

    operator = models.ForeignKey(SandboxOperator, on_delete=models.CASCADE, related_name="accounts")
    user_id = models.CharField(max_length=100)
    username = models.CharField(max_length=150)
    currency = models.CharField(max_length=10)
    balance = models.DecimalField(**amount_field_kwargs(), default=ZERO)
    is_streamer = models.BooleanField(default=False)
    pool_state = models.CharField(
        max_length=5, choices=PoolState.choices, default=PoolState.NONE, blank=True
    )
    pool_state_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["operator", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "user_id"], name="sandbox_account_user_unique"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="sandbox_account_balance_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(pool_state__in=["", "OPEN", "CLOSE"]),
                name="sandbox_account_pool_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} [{self.user_id}] {self.balance} {self.currency}"

    @property
    def is_withdrawal_locked(self) -> bool:
        return self.pool_state == self.PoolState.OPEN


class SandboxUserToken(models.Model):
    """A player session token (``userToken``) as the operator issues it at game launch."""

    token = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="tokens")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{mask_secret(self.token)} for {self.account.user_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class SandboxTransfer(models.Model):
    """One ``transfer`` callback, kept with its answer so a repeated id replays it."""

    class Type(models.TextChoices):
        DEPOSIT = "DEPOSIT", "Deposit"
        WITHDRAWAL = "WITHDRAWAL", "Withdrawal"

    operator = models.ForeignKey(
        SandboxOperator, on_delete=models.CASCADE, related_name="transfers"
    )
    transfer_id = models.CharField(max_length=100)
    account = models.ForeignKey(
        SandboxAccount,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="transfers",
        help_text="Empty when the user did not exist.",
    )
    user_id = models.CharField(max_length=100)
    transfer_type = models.CharField(max_length=10, choices=Type.choices)
    amount = models.DecimalField(**amount_field_kwargs())
    currency = models.CharField(max_length=10)
    succeeded = models.BooleanField(default=False)
    balance_after = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "transfer_id"], name="sandbox_transfer_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_transfer_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(transfer_type__in=["DEPOSIT", "WITHDRAWAL"]),
                name="sandbox_transfer_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_type} {self.amount} {self.currency} #{self.transfer_id}"


class SandboxWalletTx(models.Model):
    """One seamless-wallet money movement, or the tombstone of a withdraw that never came.

    A ``void`` row is written when a rollback arrives for a withdraw the wallet has never
    seen (answered 408): it holds that withdraw's ``providerTxId`` so the withdraw, should it
    arrive late, is refused and moves nothing.
    """

    class Kind(models.TextChoices):
        WITHDRAW = "withdraw", "Withdraw (BET)"
        DEPOSIT = "deposit", "Deposit (WIN)"
        ROLLBACK = "rollback", "Rollback"
        VOID = "void", "Void (rollback before withdraw)"

    class Status(models.TextChoices):
        OK = "ok", "Applied"
        ROLLED_BACK = "rolled_back", "Rolled back"
        VOID = "void", "Void"

    operator = models.ForeignKey(
        SandboxOperator, on_delete=models.CASCADE, related_name="wallet_txs"
    )
    provider_tx_id = models.CharField(max_length=100)
    client_tx_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    account = models.ForeignKey(
        SandboxAccount,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="wallet_txs",
    )
    user_id = models.CharField(max_length=100)
    amount = models.DecimalField(**amount_field_kwargs())
    currency = models.CharField(max_length=10)
    game = models.CharField(max_length=100, blank=True)
    rollback_of = models.CharField(
        max_length=100, blank=True, help_text="providerTxId of the withdraw this refunds."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OK)
    old_balance = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    new_balance = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "sandbox wallet transaction"
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "provider_tx_id"], name="sandbox_wallet_tx_id_unique"
            ),
            models.UniqueConstraint(
                fields=["operator", "rollback_of"],
                condition=Q(kind="rollback"),
                name="sandbox_wallet_one_rollback_per_withdraw",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="sandbox_wallet_tx_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["withdraw", "deposit", "rollback", "void"]),
                name="sandbox_wallet_tx_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} #{self.provider_tx_id}"


class SandboxFault(models.Model):
    """An injected failure on one route of one operator (or of every operator)."""

    class Route(models.TextChoices):
        STREAMER_BALANCE = "streamer-balance", "streamer-balance (callback)"
        TRANSFER = "transfer", "transfer (callback)"
        GAME_POOL = "game-pool", "game-pool (callback)"
        AUTH = "auth", "/auth (wallet)"
        WITHDRAW = "withdraw", "/withdraw (wallet)"
        DEPOSIT = "deposit", "/deposit (wallet)"
        ROLLBACK = "rollback", "/rollback (wallet)"

    class Mode(models.TextChoices):
        LATENCY = "latency", "Latency, then normal answer"
        ERROR = "error", "Definite refusal, nothing moves"
        HTTP_500 = "http_500", "HTTP 500, nothing moves"
        TIMEOUT_BEFORE = "timeout_before", "Sleep then 504, nothing moves"
        TIMEOUT_AFTER = "timeout_after", "Money moves, then sleep, then answer"
        DROP = "drop", "Money moves, answer truncated"

    operator = models.ForeignKey(
        SandboxOperator,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="faults",
        help_text="Empty: applies to every sandbox operator.",
    )
    route = models.CharField(max_length=20, choices=Route.choices)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    probability = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    latency_ms = models.PositiveIntegerField(default=0)
    remaining = models.PositiveIntegerField(
        null=True, blank=True, help_text="Times left to fire; empty means unlimited."
    )
    error_code = models.CharField(
        max_length=64, blank=True, help_text="Callback error code for mode 'error'."
    )
    enabled = models.BooleanField(default=True)
    fired_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["operator_id", "route"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "route"],
                condition=Q(operator__isnull=False),
                name="sandbox_fault_one_per_operator_route",
            ),
            models.UniqueConstraint(
                fields=["route"],
                condition=Q(operator__isnull=True),
                name="sandbox_fault_one_global_per_route",
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="sandbox_fault_probability_0_1",
            ),
            models.CheckConstraint(
                condition=Q(
                    mode__in=[
                        "latency",
                        "error",
                        "http_500",
                        "timeout_before",
                        "timeout_after",
                        "drop",
                    ]
                ),
                name="sandbox_fault_mode_valid",
            ),
        ]

    def __str__(self) -> str:
        operator = self.operator if self.operator_id else None
        scope = operator.slug if operator is not None else "all operators"
        return f"{self.mode} on {self.route} ({scope})"

    @property
    def is_active(self) -> bool:
        return self.enabled and (self.remaining is None or self.remaining > 0)


class SandboxBet(models.Model):
    """One bet placed and settled by the streamer-play simulator."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="bets")
    stake = models.DecimalField(**amount_field_kwargs())
    payout = models.DecimalField(**amount_field_kwargs())
    balance_after = models.DecimalField(**amount_field_kwargs())
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stake__gt=0), name="sandbox_bet_stake_positive"),
            models.CheckConstraint(
                condition=Q(payout__gte=0), name="sandbox_bet_payout_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="sandbox_bet_balance_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"bet {self.stake} -> {self.payout} ({self.account.user_id})"
