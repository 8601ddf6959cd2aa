"""Reading the double-entry journal: the trial balance, an account's statement, and whether
the journal agrees with the transaction log. Selectors only; each runs a bounded number of
grouped queries, never one per row.

Signs: a line's amount is positive into its account (a debit) and negative out of it (a
credit); an account's balance is the sum of its lines. Every entry balances, so the balances
of all the accounts of one currency add up to exactly 0: the trial balance shows that total
per currency, and a total that is not 0 means an entry that does not balance (PostgreSQL
refuses one at commit; SQLite, for development only, does not).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round

from apps.core.money import AMOUNT_PLACES, ZERO
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.transactions.finance.journal import POSTED_STATUSES, POSTINGS
from apps.transactions.finance.models import JournalAccount, JournalEntry, JournalLine
from apps.transactions.models import Saga, Transaction

SAMPLE_SIZE = 20
STATEMENT_MAX_LINES = 2000

MISSING = "missing"
NOT_MOVED = "not_moved"
AMOUNT_DIFFERS = "amount_differs"
PROBLEMS: dict[str, str] = {
    MISSING: "moved money but has no journal entry",
    NOT_MOVED: "has a journal entry but moved no money",
    AMOUNT_DIFFERS: "its journal entry is for another amount",
}


def _money() -> DecimalField:
    return DecimalField(max_digits=30, decimal_places=AMOUNT_PLACES)


def _sum(expression: str | F, **filters: object) -> Round:
    """A sum of amounts, 0 when there is none, rounded to 8 places in the database: exact on
    PostgreSQL (numeric) and no float residue on SQLite, which sums decimals as REAL."""
    aggregate = Sum(expression, filter=Q(**filters)) if filters else Sum(expression)
    return Round(
        Coalesce(aggregate, Value(ZERO), output_field=_money()),
        AMOUNT_PLACES,
        output_field=_money(),
    )


# --- trial balance ---------------------------------------------------------------------


@dataclass
class BalanceRow:
    """Debits, credits (both positive) and balance (debits - credits) of one account kind,
    or of one account, in one currency."""

    currency: str
    kind: str
    debits: Decimal
    credits: Decimal
    balance: Decimal
    accounts: int = 0
    account_id: int | None = None
    account_key: str = ""
    account_name: str = ""

    @property
    def kind_label(self) -> str:
        return JournalAccount.Kind(self.kind).label


@dataclass
class CurrencyTotal:
    currency: str
    debits: Decimal
    credits: Decimal
    balance: Decimal
    rows: list[BalanceRow] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.balance == 0 and self.debits == self.credits


@dataclass
class TrialBalance:
    currencies: list[CurrencyTotal]
    as_of: datetime | None
    by_account: bool

    @property
    def balanced(self) -> bool:
        return all(total.balanced for total in self.currencies)

    @property
    def rows(self) -> list[BalanceRow]:
        return [row for total in self.currencies for row in total.rows]


def _lines(
    *, operator: Operator | None, currency: str | None, as_of: datetime | None
) -> QuerySet[JournalLine]:
    lines = JournalLine.objects.all()
    if operator is not None:
        lines = lines.filter(account__operator=operator)
    if currency:
        lines = lines.filter(account__currency=currency)
    if as_of is not None:
        lines = lines.filter(entry__posted_at__lt=as_of)
    return lines


def trial_balance(
    operator: Operator | None = None,
    currency: str | None = None,
    as_of: datetime | None = None,
    *,
    by_account: bool = False,
    kind: str | None = None,
) -> TrialBalance:
    """Per currency and account kind (or per account, ``by_account``): the sum of debits,
    of credits, and the balance, from the lines posted before ``as_of``; with the grand total
    of each currency, which is 0 when every entry balances (and all kinds are shown: ``kind``
    keeps one account kind only). One grouped query."""
    group = ["account__currency", "account__kind"]
    if by_account:
        group += ["account_id", "account__key", "account__name"]
    lines = _lines(operator=operator, currency=currency, as_of=as_of)
    if kind:
        lines = lines.filter(account__kind=kind)
    grouped = (
        lines.order_by()
        .values(*group)
        .annotate(
            debits=_sum("amount", amount__gt=0),
            balance=_sum("amount"),
            accounts=Count("account_id", distinct=True),
        )
        .order_by(*group)
    )
    totals: dict[str, CurrencyTotal] = {}
    for row in grouped:
        cur = row["account__currency"]
        line = BalanceRow(
            currency=cur,
            kind=row["account__kind"],
            debits=row["debits"],
            credits=row["debits"] - row["balance"],
            balance=row["balance"],
            accounts=row["accounts"],
            account_id=row.get("account_id"),
            account_key=row.get("account__key", ""),
            account_name=row.get("account__name", ""),
        )
        total = totals.setdefault(cur, CurrencyTotal(cur, ZERO, ZERO, ZERO))
        total.rows.append(line)
        total.debits += line.debits
        total.credits += line.credits
        total.balance += line.balance
    return TrialBalance(
        currencies=[totals[cur] for cur in sorted(totals)], as_of=as_of, by_account=by_account
    )


def account_balances(account_ids: list[int]) -> dict[int, Decimal]:
    """The balance of each of these accounts (one grouped query)."""
    rows = (
        JournalLine.objects.filter(account_id__in=account_ids)
        .order_by()
        .values("account_id")
        .annotate(balance=_sum("amount"))
    )
    return {row["account_id"]: row["balance"] for row in rows}


# --- account statement -----------------------------------------------------------------


@dataclass
class StatementLine:
    line_id: int
    entry_id: int
    posted_at: datetime
    kind: str
    description: str
    transaction_id: int | None
    invoice_id: int | None
    amount: Decimal
    balance: Decimal

    @property
    def debit(self) -> Decimal:
        return self.amount if self.amount > 0 else ZERO

    @property
    def credit(self) -> Decimal:
        return -self.amount if self.amount < 0 else ZERO

    @property
    def kind_label(self) -> str:
        return JournalEntry.Kind(self.kind).label


@dataclass
class AccountStatement:
    account: JournalAccount
    start: datetime | None
    end: datetime | None
    opening: Decimal
    closing: Decimal
    debits: Decimal
    credits: Decimal
    count: int
    lines: list[StatementLine]

    @property
    def truncated(self) -> bool:
        return len(self.lines) < self.count


def account_statement(
    account: JournalAccount,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    max_lines: int = STATEMENT_MAX_LINES,
) -> AccountStatement:
    """The account's lines posted in ``[start, end)`` in order (posted_at, entry, line),
    each with the running balance; the opening balance (everything before ``start``) and the
    closing balance (opening plus the period's lines). At most ``max_lines`` lines are
    listed; the totals and closing balance always cover the whole period. Three queries."""
    lines = JournalLine.objects.filter(account=account)
    before = lines.filter(entry__posted_at__lt=start) if start is not None else lines.none()
    period = lines
    if start is not None:
        period = period.filter(entry__posted_at__gte=start)
    if end is not None:
        period = period.filter(entry__posted_at__lt=end)
    opening = before.aggregate(total=_sum("amount"))["total"]
    totals = period.aggregate(
        debits=_sum("amount", amount__gt=0), balance=_sum("amount"), count=Count("pk")
    )
    rows = (
        period.order_by("entry__posted_at", "entry_id", "pk")
        .values(
            "pk",
            "entry_id",
            "entry__posted_at",
            "entry__kind",
            "entry__description",
            "entry__transaction_id",
            "entry__invoice_id",
            "amount",
        )[:max_lines]
        .iterator()
    )
    running = opening
    statement_lines = []
    for row in rows:
        running += row["amount"]
        statement_lines.append(
            StatementLine(
                line_id=row["pk"],
                entry_id=row["entry_id"],
                posted_at=row["entry__posted_at"],
                kind=row["entry__kind"],
                description=row["entry__description"],
                transaction_id=row["entry__transaction_id"],
                invoice_id=row["entry__invoice_id"],
                amount=row["amount"],
                balance=running,
            )
        )
    return AccountStatement(
        account=account,
        start=start,
        end=end,
        opening=opening,
        closing=opening + totals["balance"],
        debits=totals["debits"],
        credits=totals["debits"] - totals["balance"],
        count=totals["count"],
        lines=statement_lines,
    )


# --- agreement with the transaction log -----------------------------------------------


def moved_q(prefix: str = "") -> Q:
    """Transactions whose money moved, as the journal posts them: real money, an amount
    above 0, a posted kind in one of its posted statuses (``journal.POSTED_STATUSES``)."""
    by_kind = Q()
    for kind, statuses in POSTED_STATUSES.items():
        by_kind |= Q(**{f"{prefix}kind": kind, f"{prefix}status__in": list(statuses)})
    return Q(**{f"{prefix}is_demo": False, f"{prefix}amount__gt": 0}) & by_kind


@dataclass
class KindAgreement:
    """The transaction log's moved transactions of one operator, currency and kind against
    the journal's entries for them."""

    operator_id: int
    currency: str
    kind: str
    log_total: Decimal = ZERO
    log_count: int = 0
    journal_total: Decimal = ZERO
    journal_count: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    transaction_ids: list[int] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return (
            self.log_total == self.journal_total
            and self.log_count == self.journal_count
            and not self.problems
        )

    @property
    def difference(self) -> Decimal:
        return self.journal_total - self.log_total

    @property
    def kind_label(self) -> str:
        return Transaction.Kind(self.kind).label


@dataclass
class Difference:
    """One transaction on which the journal and the log disagree (``PROBLEMS``)."""

    problem: str
    operator_id: int
    currency: str
    kind: str
    transaction_id: int
    external_id: str
    log_amount: Decimal
    journal_amount: Decimal | None
    entry_id: int | None

    @property
    def problem_label(self) -> str:
        return PROBLEMS[self.problem]


@dataclass
class UnbalancedEntry:
    entry_id: int
    operator_id: int
    currency: str
    total: Decimal
    lines: int
    other_currency_lines: int


@dataclass
class PoolNotZero:
    pool_id: int
    operator_id: int
    currency: str
    account_id: int
    balance: Decimal


@dataclass
class Agreement:
    kinds: list[KindAgreement]
    differences: list[Difference]  # a sample, at most SAMPLE_SIZE per problem
    difference_counts: dict[str, int]
    unbalanced: list[UnbalancedEntry]
    unbalanced_count: int
    pools_not_zero: list[PoolNotZero]

    @property
    def agrees(self) -> bool:
        return (
            all(row.agrees for row in self.kinds)
            and not self.unbalanced_count
            and not self.pools_not_zero
        )

    @property
    def disagreeing(self) -> list[KindAgreement]:
        return [row for row in self.kinds if not row.agrees]


def journal_agreement(operator: Operator | None = None, *, sample: int = SAMPLE_SIZE) -> Agreement:
    """Whether the journal agrees with the transaction log, per operator, currency and
    transaction kind: sum and count of the log's moved transactions (``moved_q``) against
    those of the journal's transaction entries, and every difference (a moved transaction
    without entry, an entry for a transaction that no longer moved, an entry for another
    amount), the first ``sample`` of each listed. Also: entries that do not balance (lines
    not adding up to 0, fewer than two, or on accounts of another currency: what the
    PostgreSQL trigger refuses, SQLite does not), and closed pools whose pool account is not
    0 once all their sagas finished. About a dozen grouped queries whatever the size."""
    txs = Transaction.objects.filter(kind__in=list(POSTINGS))
    entries = JournalEntry.objects.filter(transaction__isnull=False)
    if operator is not None:
        txs = txs.filter(operator=operator)
        entries = entries.filter(operator=operator)
    moved = txs.filter(moved_q())
    group = ("operator_id", "currency", "kind")
    kinds: dict[tuple[int, str, str], KindAgreement] = {}

    def row_for(key: tuple[int, str, str]) -> KindAgreement:
        return kinds.setdefault(key, KindAgreement(*key))

    for row in moved.order_by().values(*group).annotate(total=_sum("amount"), count=Count("pk")):
        agreement = row_for((row["operator_id"], row["currency"], row["kind"]))
        agreement.log_total, agreement.log_count = row["total"], row["count"]
    for row in entries.order_by().values(*group).annotate(total=_sum("amount"), count=Count("pk")):
        agreement = row_for((row["operator_id"], row["currency"], row["kind"]))
        agreement.journal_total, agreement.journal_count = row["total"], row["count"]

    problem_sets: dict[str, QuerySet] = {
        MISSING: moved.filter(journal_entry__isnull=True),
        NOT_MOVED: txs.filter(journal_entry__isnull=False).exclude(moved_q()),
        AMOUNT_DIFFERS: moved.filter(journal_entry__isnull=False).exclude(
            journal_entry__amount=F("amount")
        ),
    }
    differences: list[Difference] = []
    counts: dict[str, int] = {}
    for problem, queryset in problem_sets.items():
        for row in queryset.order_by().values(*group).annotate(count=Count("pk")):
            agreement = row_for((row["operator_id"], row["currency"], row["kind"]))
            agreement.problems[problem] = row["count"]
            counts[problem] = counts.get(problem, 0) + row["count"]
        if not counts.get(problem):
            continue
        for row in queryset.order_by("pk").values(
            "pk", *group, "external_id", "amount", "journal_entry__pk", "journal_entry__amount"
        )[:sample]:
            differences.append(
                Difference(
                    problem=problem,
                    operator_id=row["operator_id"],
                    currency=row["currency"],
                    kind=row["kind"],
                    transaction_id=row["pk"],
                    external_id=row["external_id"],
                    log_amount=row["amount"],
                    journal_amount=row["journal_entry__amount"],
                    entry_id=row["journal_entry__pk"],
                )
            )
            agreement = row_for((row["operator_id"], row["currency"], row["kind"]))
            agreement.transaction_ids.append(row["pk"])
    unbalanced, unbalanced_count = _unbalanced(operator, sample=sample)
    return Agreement(
        kinds=[kinds[key] for key in sorted(kinds)],
        differences=differences,
        difference_counts=counts,
        unbalanced=unbalanced,
        unbalanced_count=unbalanced_count,
        pools_not_zero=_pools_not_zero(operator),
    )


def _unbalanced(operator: Operator | None, *, sample: int) -> tuple[list[UnbalancedEntry], int]:
    entries = JournalEntry.objects.all()
    if operator is not None:
        entries = entries.filter(operator=operator)
    bad = (
        entries.order_by()
        .annotate(
            total=_sum("lines__amount"),
            line_count=Count("lines"),
            other_currency=Count("lines", filter=~Q(lines__account__currency=F("currency"))),
        )
        .filter(~Q(total=0) | Q(line_count__lt=2) | Q(other_currency__gt=0))
    )
    count = bad.count()
    if not count:
        return [], 0
    rows = bad.order_by("pk").values(
        "pk", "operator_id", "currency", "total", "line_count", "other_currency"
    )[:sample]
    return [
        UnbalancedEntry(
            entry_id=row["pk"],
            operator_id=row["operator_id"],
            currency=row["currency"],
            total=row["total"],
            lines=row["line_count"],
            other_currency_lines=row["other_currency"],
        )
        for row in rows
    ], count


def _pools_not_zero(operator: Operator | None) -> list[PoolNotZero]:
    running = Saga.objects.filter(status=Saga.Status.RUNNING).values("pool_id")
    lines = JournalLine.objects.filter(
        account__kind=JournalAccount.Kind.POOL, account__pool__state=Pool.State.CLOSED
    ).exclude(account__pool_id__in=running)
    if operator is not None:
        lines = lines.filter(account__operator=operator)
    rows = (
        lines.order_by()
        .values("account_id", "account__pool_id", "account__operator_id", "account__currency")
        .annotate(balance=_sum("amount"))
        .exclude(balance=0)
        .order_by("account__pool_id")
    )
    return [
        PoolNotZero(
            pool_id=row["account__pool_id"],
            operator_id=row["account__operator_id"],
            currency=row["account__currency"],
            account_id=row["account_id"],
            balance=row["balance"],
        )
        for row in rows
    ]


def agreement_by_operator(agreement: Agreement) -> dict[int, list[KindAgreement]]:
    """The agreement's rows grouped by operator id."""
    grouped: dict[int, list[KindAgreement]] = defaultdict(list)
    for row in agreement.kinds:
        grouped[row.operator_id].append(row)
    return dict(grouped)


# --- the daily settlement against the journal -------------------------------------------

# A settlement figure and the journal entries it must equal on its day (UTC, by posted_at):
# (entry kind, the statuses its transaction must still be in). A BET rolled back later is in
# the journal (its money moved, then came back) but not in the settlement's money in, which
# counts the rollback's BET nowhere: so only the entries of BETs still succeeded count.
SETTLEMENT_FIGURES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "money_in": (Transaction.Kind.FOLLOWER_DEBIT, (Transaction.Status.SUCCEEDED,)),
    "money_out": (Transaction.Kind.FOLLOWER_CREDIT, None),
    "rollbacks": (Transaction.Kind.FOLLOWER_ROLLBACK, None),
    "performance_fees": (Transaction.Kind.PERFORMANCE_FEE, None),
}


def settlements_with_journal(queryset: QuerySet) -> QuerySet:
    """``queryset`` of ``DailySettlement`` rows, each annotated ``journal_<figure>``: what the
    journal posted for that figure, operator, currency and day (one correlated sum per figure,
    evaluated only for the rows fetched, e.g. a page of the admin list)."""
    annotations = {}
    for figure, (kind, statuses) in SETTLEMENT_FIGURES.items():
        entries = JournalEntry.objects.filter(
            operator_id=OuterRef("operator_id"),
            currency=OuterRef("currency"),
            kind=kind,
            posted_at__date=OuterRef("day"),
        )
        if statuses is not None:
            entries = entries.filter(transaction__status__in=statuses)
        total = entries.order_by().values("operator_id").annotate(total=_sum("amount"))
        annotations[f"journal_{figure}"] = Coalesce(
            Subquery(total.values("total")[:1], output_field=_money()),
            Value(ZERO),
            output_field=_money(),
        )
    return queryset.annotate(**annotations)


def settlement_journal_differences(row) -> dict[str, tuple[Decimal, Decimal]]:
    """For a row of ``settlements_with_journal``: figure -> (settlement, journal), for every
    figure where they differ (an empty dict: the day ties to the journal)."""
    differences = {}
    for figure in SETTLEMENT_FIGURES:
        settled = getattr(row, figure)
        posted = getattr(row, f"journal_{figure}", None)
        if posted is None:
            continue
        if settled.quantize(Decimal(1).scaleb(-AMOUNT_PLACES)) != Decimal(posted).quantize(
            Decimal(1).scaleb(-AMOUNT_PLACES)
        ):
            differences[figure] = (settled, Decimal(posted))
    return differences
