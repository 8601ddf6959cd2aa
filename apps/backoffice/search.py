"""The back office's global search: pools, followers, streamers, transactions and sagas by
id, id prefix or name, each a bounded indexed lookup.

What each kind is found by (``q`` stripped, a leading ``#`` dropped):

- Pool: its number (exactly), or the streamer's (as below): that streamer's latest pools.
- Follower: its number (exactly), operator user id (exactly or by prefix), username (prefix,
  any case).
- Streamer: its number (exactly), operator user id (exactly or by prefix), display name
  (prefix, any case).
- Transaction: its number (exactly), external id (exactly, or by prefix of at least
  ``TX_PREFIX_MIN`` characters), the operator's reference (exactly). Never by name: the table
  is the biggest, and only its indexes are used.
- Saga: its number (exactly).

Integer primary keys are matched exactly, never by prefix. Operator user ids and external ids
are unique per operator ((operator, id) indexes), so they are probed for every operator at
once (``operator IN (...)``), as the transactions list does. Prefixes are range scans
(``id >= q AND id < q + U+FFFF``) that a B-tree index answers, checked with a case-sensitive
``startswith``. Names have no index: they are matched by prefix with ``LIMIT``, never by
``icontains``. Every kind returns at most ``limit + 1`` rows (the extra one says there are more),
so a search costs a fixed number of queries whatever the tables hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Model, Q, QuerySet

from apps.followers.models import Follower
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.streamers.models import Streamer
from apps.transactions.models import Saga, Transaction

KINDS = ("pool", "follower", "streamer", "transaction", "saga")
LIMIT = 20
MAX_QUERY = 128
TX_PREFIX_MIN = 6
MAX_PK = 2**63 - 1
# U+FFFF sorts after every character (binary, and CLDR/ICU give it the highest primary
# weight): [q, q + TOP) holds every string starting with q, and a B-tree index seeks it.
TOP = "\uffff"


@dataclass
class KindResult:
    kind: str
    rows: list = field(default_factory=list)
    more: bool = False  # more than the rows shown matched


@dataclass
class SearchOutcome:
    query: str
    results: list[KindResult] = field(default_factory=list)
    error: str = ""

    @property
    def total(self) -> int:
        return sum(len(result.rows) for result in self.results)


def search_term_clean(q: str) -> str:
    return (q or "").strip().lstrip("#").strip()


def _number(term: str) -> int | None:
    if term.isdigit() and len(term) <= 19 and int(term) <= MAX_PK:
        return int(term)
    return None


def _prefix(field_name: str, term: str) -> Q:
    """``field`` starts with ``term``, written as a range an index can seek."""
    return Q(**{f"{field_name}__gte": term, f"{field_name}__lt": term + TOP}) & Q(
        **{f"{field_name}__startswith": term}
    )


def _take(queryset: QuerySet, limit: int) -> tuple[list, bool]:
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


def _branches(querysets: list[QuerySet], limit: int) -> tuple[list, bool]:
    """The rows of each query in turn (each at most ``limit + 1``), without repeats."""
    rows: dict[int, Model] = {}
    more = False
    for queryset in querysets:
        found, extra = _take(queryset, limit)
        more = more or extra
        for row in found:
            rows.setdefault(row.pk, row)
    ordered = list(rows.values())
    return ordered[:limit], more or len(ordered) > limit


def streamers_search(term: str, operators: list[int], limit: int = LIMIT) -> tuple[list, bool]:
    number = _number(term)
    found = Q(operator_id__in=operators) & _prefix("operator_user_id", term)
    found |= Q(display_name__istartswith=term)
    if number is not None:
        found |= Q(pk=number)
    queryset = Streamer.objects.filter(found).select_related("operator").order_by("display_name")
    return _take(queryset, limit)


def followers_search(term: str, operators: list[int], limit: int = LIMIT) -> tuple[list, bool]:
    """Ids on their index first; the username (no index) by prefix, stopped by the LIMIT."""
    base = Follower.objects.select_related("operator").order_by()
    number = _number(term)
    found = Q(operator_id__in=operators) & _prefix("operator_user_id", term)
    if number is not None:
        found |= Q(pk=number)
    by_name = base.filter(username__istartswith=term).exclude(found)
    return _branches([base.filter(found).order_by("operator_user_id"), by_name], limit)


def pools_search(term: str, streamers: list[Streamer], limit: int = LIMIT) -> tuple[list, bool]:
    number = _number(term)
    found = Q(streamer__in=[s.pk for s in streamers])
    if number is not None:
        found |= Q(pk=number)
    queryset = (
        Pool.objects.filter(found).select_related("streamer", "operator").order_by("-opened_at")
    )
    return _take(queryset, limit)


def transactions_search(term: str, operators: list[int], limit: int = LIMIT) -> tuple[list, bool]:
    """By indexes only, one query per index (an OR across them would scan the table)."""
    base = Transaction.objects.select_related("operator").order_by()
    branches = [
        base.filter(operator_id__in=operators, external_id=term),
        base.filter(operator_reference=term).exclude(operator_reference=""),
    ]
    number = _number(term)
    if number is not None:
        branches.append(base.filter(pk=number))
    if len(term) >= TX_PREFIX_MIN:
        branches.append(
            base.filter(_prefix("external_id", term), operator_id__in=operators)
            .exclude(external_id=term)
            .order_by("operator_id", "external_id")
        )
    return _branches(branches, limit)


def sagas_search(term: str, limit: int = LIMIT) -> tuple[list, bool]:
    number = _number(term)
    if number is None:
        return [], False
    return _take(Saga.objects.filter(pk=number).select_related("pool"), limit)


def global_search(q: str, kinds: set[str] | frozenset[str], limit: int = LIMIT) -> SearchOutcome:
    """Search the ``kinds`` the caller may view (others are never queried)."""
    term = search_term_clean(q)
    outcome = SearchOutcome(query=term)
    if not term:
        outcome.error = "Type an id, the start of an id, or a name."
        return outcome
    if len(term) > MAX_QUERY:
        outcome.error = f"A search is at most {MAX_QUERY} characters."
        return outcome
    operators = list(Operator.objects.order_by().values_list("pk", flat=True))
    streamers: list[Streamer] = []
    if "streamer" in kinds or "pool" in kinds:
        streamers, more = streamers_search(term, operators, limit)
        if "streamer" in kinds:
            outcome.results.append(KindResult("streamer", streamers, more))
    if "pool" in kinds:
        outcome.results.insert(0, KindResult("pool", *pools_search(term, streamers, limit)))
    if "follower" in kinds:
        outcome.results.append(KindResult("follower", *followers_search(term, operators, limit)))
    if "transaction" in kinds:
        outcome.results.append(
            KindResult("transaction", *transactions_search(term, operators, limit))
        )
    if "saga" in kinds:
        outcome.results.append(KindResult("saga", *sagas_search(term, limit)))
    return outcome
