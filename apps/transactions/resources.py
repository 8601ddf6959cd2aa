"""Finance exports: the columns of the transactions and daily-settlement files.

Declared once here as import-export resources; the admin streams them (CSV, XLSX) through
``apps.core.exports``, which reads each field's ``attribute`` as a ``values_list`` path.
"""

from import_export import fields, resources

from apps.transactions.models import DailySettlement, Transaction


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
    fees = _field("fees")
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
            "fees",
            "open_exposure",
            "transactions_count",
            "computed_at",
        )
        export_order = fields
