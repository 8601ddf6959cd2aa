import hashlib
import ipaddress
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.core.errors import ErrorCode
from apps.core.fields import EncryptedTextField, masked
from apps.core.history import staff_history_user
from apps.core.money import amount_field_kwargs, percent_field_kwargs
from apps.operators.validators import validate_operator_url


def api_key_digest(key: str) -> str:
    """Inbound API keys are stored as SHA-256 digests: looked up, never shown."""
    return hashlib.sha256(key.encode()).hexdigest()


def validate_ip_allowlist(value: str) -> None:
    for entry in parse_ip_allowlist(value, strict=True):
        del entry


def parse_ip_allowlist(value: str, *, strict: bool = False) -> list:
    networks = []
    for raw in value.replace(",", "\n").split():
        try:
            networks.append(ipaddress.ip_network(raw.strip(), strict=False))
        except ValueError as error:
            if strict:
                raise ValidationError(f"{raw!r} is not an IP address or network") from error
    return networks


class Operator(models.Model):
    """A casino operator (tenant): its endpoints, credentials and limits."""

    name = models.CharField(max_length=100, unique=True)
    code = models.SlugField(max_length=50, unique=True)
    enabled = models.BooleanField(
        default=True, help_text=f"Off: every operator call answers {ErrorCode.COPYSTAKE_OFF}."
    )
    callback_url = models.URLField(
        max_length=500,
        validators=[validate_operator_url],
        help_text="Base of transfer, streamer-balance, game-pool (https).",
    )
    wallet_url = models.URLField(
        max_length=500,
        validators=[validate_operator_url],
        help_text="Base of /auth, /withdraw, /deposit, /rollback (https).",
    )

    # Issued by CopyStake to the operator (inbound X-API-KEY): only its digest is kept.
    api_key_digest = models.CharField(max_length=64, unique=True)
    api_key_hint = models.CharField(max_length=12, blank=True)
    # Issued by the operator to CopyStake (outbound X-API-KEY).
    operator_api_key = EncryptedTextField()
    # Issued by CopyStake; signs X-REQUEST-SIGNATURE both ways.
    secret_key = EncryptedTextField()
    # A rotation with an overlap window (``operator_rotate_keys``): until
    # ``rotation_overlap_until`` the replaced API key and secret are accepted inbound too, and
    # outbound calls are still signed with the replaced secret (``outbound_secret``).
    previous_api_key_digest = models.CharField(max_length=64, blank=True, db_index=True)
    previous_secret_key = EncryptedTextField(blank=True, default="")
    rotation_overlap_until = models.DateTimeField(null=True, blank=True)
    wallet_client_id = models.CharField(max_length=200)
    wallet_secret = EncryptedTextField()

    ip_allowlist = models.TextField(
        blank=True,
        validators=[validate_ip_allowlist],
        help_text="Addresses or networks, one per line; empty allows any address.",
    )
    session_ttl_seconds = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(60)]
    )
    min_contribution = models.DecimalField(**amount_field_kwargs(), default=Decimal("1"))
    max_contribution = models.DecimalField(**amount_field_kwargs(), default=Decimal("10000"))
    max_followers_per_pool = models.PositiveIntegerField(
        default=1000,
        validators=[MinValueValidator(1)],
        help_text="Distinct followers in one pool at once (a streamer may set its own).",
    )
    max_pool_value = models.DecimalField(
        **amount_field_kwargs(),
        null=True,
        blank=True,
        help_text="Capacity of a pool: joins may not take its value above this; empty: no cap "
        "(a streamer may set its own).",
    )
    request_timeout_seconds = models.FloatField(default=5.0, validators=[MinValueValidator(0.1)])
    default_stop_loss_percent = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="A stop-loss given to every new position, as the percent of its contribution "
        "it may lose (e.g. 50: it leaves once its value is half what it put in); empty: none. "
        "Followers may change it.",
    )
    default_performance_fee_percent = models.DecimalField(
        **percent_field_kwargs(),
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(50))],
        help_text="The streamers' performance fee unless a streamer sets its own: the percent "
        "(0 to 50) of a follower's profit above their high-water mark that the streamer keeps "
        "on every leave. A change applies to new positions only.",
    )
    languages = models.CharField(
        max_length=100,
        default="en,es,pt",
        help_text="The languages the player page may use (codes, comma-separated); the "
        "language init asks for is used when it is one of them, English otherwise.",
    )

    # The operator's test users for the conformance check (``check_operator``).
    test_currency = models.CharField(
        max_length=10,
        blank=True,
        help_text="Conformance check: the test users' currency (empty: the streamer's).",
    )
    test_streamer_id = models.CharField(
        max_length=100, blank=True, help_text="Conformance check: a streamer's user id."
    )
    test_follower_id = models.CharField(
        max_length=100, blank=True, help_text="Conformance check: a follower's user id."
    )
    test_follower_token = EncryptedTextField(
        blank=True,
        default="",
        help_text="Conformance check: a live wallet userToken of that follower (a secret).",
    )
    test_non_streamer_id = models.CharField(
        max_length=100, blank=True, help_text="Conformance check: a user id that is no streamer."
    )
    test_unknown_id = models.CharField(
        max_length=100, blank=True, help_text="Conformance check: a user id that does not exist."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=[
            "operator_api_key",
            "secret_key",
            "previous_secret_key",
            "wallet_secret",
            "test_follower_token",
        ],
        get_user=staff_history_user,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_contribution__gt=0), name="operator_min_contribution_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_contribution__gte=models.F("min_contribution")),
                name="operator_max_contribution_gte_min",
            ),
            models.CheckConstraint(
                condition=Q(request_timeout_seconds__gt=0), name="operator_timeout_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_pool_value__isnull=True) | Q(max_pool_value__gt=0),
                name="operator_max_pool_value_positive",
            ),
            models.CheckConstraint(
                condition=Q(default_performance_fee_percent__gte=0)
                & Q(default_performance_fee_percent__lte=50),
                name="operator_performance_fee_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    masked_operator_api_key = masked("operator_api_key")
    masked_secret_key = masked("secret_key")
    masked_previous_secret_key = masked("previous_secret_key")
    masked_wallet_secret = masked("wallet_secret")
    masked_test_follower_token = masked("test_follower_token")

    @property
    def masked_api_key(self) -> str:
        return "•" * 6 + self.api_key_hint if self.api_key_hint else ""

    def rotation_in_overlap(self, now: datetime | None = None) -> bool:
        """Whether a key rotation's overlap window is open: the replaced key and secret still
        work until ``rotation_overlap_until``."""
        deadline = self.rotation_overlap_until
        return deadline is not None and deadline > (now or timezone.now())

    def inbound_secrets(self, now: datetime | None = None) -> list[str]:
        """The secrets an inbound signature may be made with: the current one, and the
        replaced one while the overlap window is open."""
        if self.previous_secret_key and self.rotation_in_overlap(now):
            return [self.secret_key, self.previous_secret_key]
        return [self.secret_key]

    def outbound_secret(self, now: datetime | None = None) -> str:
        """The secret CopyStake signs its calls to the operator with: during an overlap window
        the replaced one (the one the operator's deployed system knows), else the current."""
        if self.previous_secret_key and self.rotation_in_overlap(now):
            return self.previous_secret_key
        return self.secret_key

    def allows_ip(self, address: str | None) -> bool:
        """Any address when the allowlist is empty; otherwise only those its readable entries
        name. An allowlist whose entries are all unreadable (saved around validation) lets
        nobody in: it was meant to restrict, so it must not fail open."""
        if not self.ip_allowlist.strip():
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # an IPv4 client seen through a dual-stack socket
        return any(ip in network for network in parse_ip_allowlist(self.ip_allowlist))


class CallLog(models.Model):
    """Every inbound and outbound HTTP call, bodies masked, with its verdict."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        ERROR = "error", "Definite error"
        UNKNOWN = "unknown", "Unknown"

    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    endpoint = models.CharField(max_length=50, db_index=True)
    method = models.CharField(max_length=10, default="POST")
    url = models.CharField(max_length=1000)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, db_index=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    signature_valid = models.BooleanField(null=True, blank=True)
    # The transaction this call moved money for (external id), when there is one.
    external_id = models.CharField(max_length=64, blank=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["operator", "-created_at"], name="calllog_operator_recent")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.endpoint} {self.response_status or '-'}"


class ConformanceRun(models.Model):
    """One run of the conformance check against an operator, with its report."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ERROR = "error", "Could not run"

    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="conformance_runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "running", "passed", "failed", "error"]),
                name="conformance_run_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Conformance check of {self.operator} #{self.pk} ({self.state})"
