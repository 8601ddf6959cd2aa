"""A changelist paginator that never runs ``COUNT(*)`` over a whole huge table.

It counts exactly up to ``exact_limit`` rows (``SELECT COUNT(*) FROM (... LIMIT n+1)``, which
stops reading after n+1 rows); past that it takes PostgreSQL's planner estimate of the
filtered query (``EXPLAIN``, no rows read), and says so (``estimated``). On PostgreSQL both
are one statement (the estimate through ``cp_count_estimate``, migration core 0004, asked only
when the count reached the limit), so a page runs the same queries at a thousand rows as at a
million. Pair it with ``show_full_result_count = False`` so the admin does not count the
unfiltered table either.
"""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
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
        capped_rows = queryset.order_by().values("pk")[: self.exact_limit + 1]
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            capped, estimate = capped_rows.count(), None
        else:
            capped, estimate = self._count_or_estimate(capped_rows, queryset)
        if capped <= self.exact_limit:
            return capped
        self.estimated = True
        return max(estimate or 0, capped)

    def _count_or_estimate(
        self, capped_rows: QuerySet, queryset: QuerySet
    ) -> tuple[int, int | None]:
        """(rows up to the limit + 1, the planner's estimate when past the limit): one query."""
        connection = connections[queryset.db]
        try:
            capped_sql, capped_params = capped_rows.query.sql_with_params()
        except EmptyResultSet:  # e.g. ``pk__in=[]``: nothing to count, as count() answers
            return 0, None
        full_sql, full_params = queryset.order_by().values("pk").query.sql_with_params()
        # The filtered query as SQL text, its values quoted by the driver, for EXPLAIN
        # (compose_sql is the PostgreSQL backend's).
        full_text = connection.ops.compose_sql(full_sql, full_params)  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT capped.n, CASE WHEN capped.n > %s THEN cp_count_estimate(%s) END "
                f"FROM (SELECT COUNT(*) AS n FROM ({capped_sql}) AS capped_rows) AS capped",
                [self.exact_limit, full_text, *capped_params],
            )
            capped, estimate = cursor.fetchone()
        return int(capped), None if estimate is None else int(estimate)
