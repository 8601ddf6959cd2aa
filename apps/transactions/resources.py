"""Finance exports: the columns of the transactions, daily-settlement, position, fee and
journal files.

Declared once here as import-export resources; the admin streams them (CSV, XLSX) through
``apps.core.exports``, which reads each field's ``attribute`` as a ``values_list`` path.
"""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from import_export import resources

from apps.core.exports import resource_field
from apps.followers.models import Position
from apps.transactions.finance.models import JournalLine
from apps.transactions.models import DailySettlement, Receipt, Transaction


class TransactionResource(resources.ModelResource):
    id = resource_field("id")
    external_id = resource_field("external_id")
    created_at = resource_field("created_at")
    completed_at = resource_field("completed_at")
    operator = resource_field("operator__code", "operator")
    kind = resource_field("kind")
    status = resource_field("status")
    amount = resource_field("amount")
    currency = resource_field("currency")
    pool = resource_field("pool_id", "pool_id")
    saga = resource_field("saga_id", "saga_id")
    position = resource_field("position_id", "position_id")
    follower = resource_field("follower__operator_user_id", "follower_user_id")
    streamer = resource_field("streamer__operator_user_id", "streamer_user_id")
    rolls_back = resource_field("rolls_back__external_id", "rolls_back_external_id")
    units = resource_field("units")
    priced_balance = resource_field("priced_balance")
    balance_before = resource_field("balance_before")
    balance_after = resource_field("balance_after")
    operator_reference = resource_field("operator_reference")
    attempts = resource_field("attempts")
    last_error_code = resource_field("last_error_code")
    needs_review = resource_field("needs_review")
    is_demo = resource_field("is_demo")

    class Meta:
        model = Transaction
        fields = (
            "id",
            "external_id",
            "created_at",
            "completed_at",
            "operator",
            "kind",
            "status",
            "amount",
            "currency",
            "pool",
            "saga",
            "position",
            "follower",
            "streamer",
            "rolls_back",
            "units",
            "priced_balance",
            "balance_before",
            "balance_after",
            "operator_reference",
            "attempts",
            "last_error_code",
            "needs_review",
            "is_demo",
        )
        export_order = fields


class DailySettlementResource(resources.ModelResource):
    day = resource_field("day")
    operator = resource_field("operator__code", "operator")
    currency = resource_field("currency")
    money_in = resource_field("money_in")
    money_out = resource_field("money_out")
    rollbacks = resource_field("rollbacks")
    turnover_fee = resource_field("turnover_fee")
    ggr_fee = resource_field("ggr_fee")
    fees = resource_field("fees")
    performance_fees = resource_field("performance_fees")
    fee_schedule = resource_field("fee_schedule_id", "fee_schedule")
    open_exposure = resource_field("open_exposure")
    transactions_count = resource_field("transactions_count")
    computed_at = resource_field("computed_at")

    class Meta:
        model = DailySettlement
        fields = (
            "day",
            "operator",
            "currency",
            "money_in",
            "money_out",
            "rollbacks",
            "turnover_fee",
            "ggr_fee",
            "fees",
            "performance_fees",
            "fee_schedule",
            "open_exposure",
            "transactions_count",
            "computed_at",
        )
        export_order = fields


class PositionResource(resources.ModelResource):
    """Positions with their fees and receipts: how many receipts, and the ids of the money
    movements on the last one (annotations of ``filter_export``)."""

    id = resource_field("id")
    operator = resource_field("pool__operator__code", "operator")
    follower = resource_field("follower__operator_user_id", "follower_user_id")
    streamer = resource_field("pool__streamer__operator_user_id", "streamer_user_id")
    pool = resource_field("pool_id", "pool_id")
    currency = resource_field("pool__currency", "currency")
    status = resource_field("status")
    contributed = resource_field("contributed")
    payout = resource_field("payout")
    fees_paid = resource_field("fees_paid")
    performance_fee_percent = resource_field("performance_fee_percent")
    high_water_mark = resource_field("high_water_mark")
    units = resource_field("units")
    leave_reason = resource_field("leave_reason")
    created_at = resource_field("created_at")
    closed_at = resource_field("closed_at")
    receipts_count = resource_field("receipts_count")
    last_receipt_id = resource_field("last_receipt_id")
    last_receipt_kind = resource_field("last_receipt_kind")
    last_bet_external_id = resource_field("last_bet_external_id")
    last_deposit_external_id = resource_field("last_deposit_external_id")
    last_withdrawal_external_id = resource_field("last_withdrawal_external_id")
    last_win_external_id = resource_field("last_win_external_id")
    last_fee_external_id = resource_field("last_fee_external_id")
    is_demo = resource_field("is_demo")

    LAST_RECEIPT_FIELDS = {
        "last_receipt_id": "pk",
        "last_receipt_kind": "kind",
        "last_bet_external_id": "bet_external_id",
        "last_deposit_external_id": "deposit_external_id",
        "last_withdrawal_external_id": "withdrawal_external_id",
        "last_win_external_id": "win_external_id",
        "last_fee_external_id": "fee_external_id",
    }

    class Meta:
        model = Position
        fields = (
            "id",
            "operator",
            "follower",
            "streamer",
            "pool",
            "currency",
            "status",
            "contributed",
            "payout",
            "fees_paid",
            "performance_fee_percent",
            "high_water_mark",
            "units",
            "leave_reason",
            "created_at",
            "closed_at",
            "receipts_count",
            "last_receipt_id",
            "last_receipt_kind",
            "last_bet_external_id",
            "last_deposit_external_id",
            "last_withdrawal_external_id",
            "last_win_external_id",
            "last_fee_external_id",
            "is_demo",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        receipts = Receipt.objects.filter(position=OuterRef("pk"))
        last = receipts.order_by("-priced_at", "-pk")
        return queryset.annotate(
            receipts_count=Coalesce(
                Subquery(
                    receipts.order_by().values("position").annotate(n=Count("pk")).values("n")
                ),
                0,
            ),
            **{
                name: Subquery(last.values(column)[:1])
                for name, column in self.LAST_RECEIPT_FIELDS.items()
            },
        )


class FeeResource(resources.ModelResource):
    """The streamers' performance fees (the ``PERFORMANCE_FEE`` transactions the export's
    filter lets through) with their leave receipt's gross value, net payout, mark and percent
    (the receipt whose ``fee_external_id`` is the fee's)."""

    id = resource_field("id")
    external_id = resource_field("external_id")
    completed_at = resource_field("completed_at")
    operator = resource_field("operator__code", "operator")
    status = resource_field("status")
    fee = resource_field("amount", "fee")
    currency = resource_field("currency")
    streamer = resource_field("streamer__operator_user_id", "streamer_user_id")
    follower = resource_field("follower__operator_user_id", "follower_user_id")
    pool = resource_field("pool_id", "pool_id")
    position = resource_field("position_id", "position_id")
    fee_units = resource_field("fee_units")
    receipt = resource_field("receipt_id")
    gross_amount = resource_field("gross_amount")
    net_amount = resource_field("net_amount")
    high_water_mark = resource_field("high_water_mark")
    fee_percent = resource_field("fee_percent")

    RECEIPT_FIELDS = {
        "receipt_id": "pk",
        "gross_amount": "gross_amount",
        "net_amount": "amount",
        "high_water_mark": "high_water_mark",
        "fee_percent": "fee_percent",
    }

    class Meta:
        model = Transaction
        fields = (
            "id",
            "external_id",
            "completed_at",
            "operator",
            "status",
            "fee",
            "currency",
            "streamer",
            "follower",
            "pool",
            "position",
            "fee_units",
            "receipt",
            "gross_amount",
            "net_amount",
            "high_water_mark",
            "fee_percent",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        receipt = Receipt.objects.filter(
            fee_external_id=OuterRef("external_id"), position=OuterRef("position")
        )
        return queryset.filter(kind=Transaction.Kind.PERFORMANCE_FEE).annotate(
            **{
                name: Subquery(receipt.values(column)[:1])
                for name, column in self.RECEIPT_FIELDS.items()
            }
        )


class JournalLineResource(resources.ModelResource):
    """The journal, one row per line: its entry, the account and the signed amount (positive
    into the account, negative out of it)."""

    entry = resource_field("entry_id", "entry_id")
    posted_at = resource_field("entry__posted_at", "posted_at")
    kind = resource_field("entry__kind", "kind")
    operator = resource_field("entry__operator__code", "operator")
    currency = resource_field("entry__currency", "currency")
    account_key = resource_field("account__key", "account_key")
    account_kind = resource_field("account__kind", "account_kind")
    amount = resource_field("amount")
    transaction = resource_field("entry__transaction__external_id", "transaction_external_id")
    invoice = resource_field("entry__invoice__number", "invoice_number")
    description = resource_field("entry__description", "description")

    class Meta:
        model = JournalLine
        fields = (
            "entry",
            "posted_at",
            "kind",
            "operator",
            "currency",
            "account_key",
            "account_kind",
            "amount",
            "transaction",
            "invoice",
            "description",
        )
        export_order = fields
