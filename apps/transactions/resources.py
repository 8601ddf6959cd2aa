"""Finance exports: the columns of the transactions, daily-settlement, position, fee and
journal files.

Declared once here as import-export resources; the admin streams them (CSV, XLSX) through
``apps.core.exports``, which reads each field's ``attribute`` as a ``values_list`` path.
"""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from import_export import fields, resources

from apps.followers.models import Position
from apps.transactions.finance.models import JournalLine
from apps.transactions.models import DailySettlement, Receipt, Transaction


def _field(attribute: str, column: str | None = None) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column or attribute)


class TransactionResource(resources.ModelResource):
    id = _field("id")
    external_id = _field("external_id")
    created_at = _field("created_at")
    completed_at = _field("completed_at")
    operator = _field("operator__code", "operator")
    kind = _field("kind")
    status = _field("status")
    amount = _field("amount")
    currency = _field("currency")
    pool = _field("pool_id", "pool_id")
    saga = _field("saga_id", "saga_id")
    position = _field("position_id", "position_id")
    follower = _field("follower__operator_user_id", "follower_user_id")
    streamer = _field("streamer__operator_user_id", "streamer_user_id")
    rolls_back = _field("rolls_back__external_id", "rolls_back_external_id")
    units = _field("units")
    priced_balance = _field("priced_balance")
    balance_before = _field("balance_before")
    balance_after = _field("balance_after")
    operator_reference = _field("operator_reference")
    attempts = _field("attempts")
    last_error_code = _field("last_error_code")
    needs_review = _field("needs_review")
    is_demo = _field("is_demo")

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
    day = _field("day")
    operator = _field("operator__code", "operator")
    currency = _field("currency")
    money_in = _field("money_in")
    money_out = _field("money_out")
    rollbacks = _field("rollbacks")
    turnover_fee = _field("turnover_fee")
    ggr_fee = _field("ggr_fee")
    fees = _field("fees")
    performance_fees = _field("performance_fees")
    fee_schedule = _field("fee_schedule_id", "fee_schedule")
    open_exposure = _field("open_exposure")
    transactions_count = _field("transactions_count")
    computed_at = _field("computed_at")

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

    id = _field("id")
    operator = _field("pool__operator__code", "operator")
    follower = _field("follower__operator_user_id", "follower_user_id")
    streamer = _field("pool__streamer__operator_user_id", "streamer_user_id")
    pool = _field("pool_id", "pool_id")
    currency = _field("pool__currency", "currency")
    status = _field("status")
    contributed = _field("contributed")
    payout = _field("payout")
    fees_paid = _field("fees_paid")
    performance_fee_percent = _field("performance_fee_percent")
    high_water_mark = _field("high_water_mark")
    units = _field("units")
    leave_reason = _field("leave_reason")
    created_at = _field("created_at")
    closed_at = _field("closed_at")
    receipts_count = _field("receipts_count")
    last_receipt_id = _field("last_receipt_id")
    last_receipt_kind = _field("last_receipt_kind")
    last_bet_external_id = _field("last_bet_external_id")
    last_deposit_external_id = _field("last_deposit_external_id")
    last_withdrawal_external_id = _field("last_withdrawal_external_id")
    last_win_external_id = _field("last_win_external_id")
    last_fee_external_id = _field("last_fee_external_id")
    is_demo = _field("is_demo")

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

    id = _field("id")
    external_id = _field("external_id")
    completed_at = _field("completed_at")
    operator = _field("operator__code", "operator")
    status = _field("status")
    fee = _field("amount", "fee")
    currency = _field("currency")
    streamer = _field("streamer__operator_user_id", "streamer_user_id")
    follower = _field("follower__operator_user_id", "follower_user_id")
    pool = _field("pool_id", "pool_id")
    position = _field("position_id", "position_id")
    fee_units = _field("fee_units")
    receipt = _field("receipt_id")
    gross_amount = _field("gross_amount")
    net_amount = _field("net_amount")
    high_water_mark = _field("high_water_mark")
    fee_percent = _field("fee_percent")

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

    entry = _field("entry_id", "entry_id")
    posted_at = _field("entry__posted_at", "posted_at")
    kind = _field("entry__kind", "kind")
    operator = _field("entry__operator__code", "operator")
    currency = _field("entry__currency", "currency")
    account_key = _field("account__key", "account_key")
    account_kind = _field("account__kind", "account_kind")
    amount = _field("amount")
    transaction = _field("entry__transaction__external_id", "transaction_external_id")
    invoice = _field("entry__invoice__number", "invoice_number")
    description = _field("entry__description", "description")

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
