"""A changelist paginator that never runs ``COUNT(*)`` over a whole huge table.

It counts exactly up to ``exact_limit`` rows (``SELECT COUNT(*) FROM (... LIMIT n+1)``, which
stops reading after n+1 rows); past that it takes PostgreSQL's planner estimate of the
filtered query (``EXPLAIN``, no rows read), and says so (``estimated``). Pair it with
``show_full_result_count = False`` so the admin does not count the unfiltered table either.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def planner_estimate(queryset: QuerySet) -> int | None:
    """Rows PostgreSQL expects ``queryset`` to return, from its statistics; None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCountPaginator(Paginator):
    exact_limit = 10_000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        capped = queryset.order_by().values("pk")[: self.exact_limit + 1].count()
        if capped <= self.exact_limit:
            return capped
        self.estimated = True
        estimate = planner_estimate(queryset)
        return max(estimate or 0, capped)
