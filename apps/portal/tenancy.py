"""Strict tenancy: the one place that says how each model's rows belong to an operator.

Every portal page, filter, search, export and action reads its rows through ``scoped``; a
model this table does not name cannot be read in the portal at all (``NotScoped``), so a new
model is invisible until someone decides which operator owns its rows. The test over every
portal URL (``tests/test_tenancy.py``) proves the rest.
"""

from __future__ import annotations

from django.db import models

from apps.followers.models import Follower, PlayerSession, Position
from apps.operators.models import CallLog, ConformanceRun, Operator
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Stream, Streamer
from apps.transactions.finance.models import Invoice, InvoiceLine
from apps.transactions.models import DailySettlement, Receipt, Transaction

# model -> the lookup from its rows to their Operator.
OPERATOR_PATHS: dict[type[models.Model], str] = {
    Operator: "pk",
    CallLog: "operator",
    ConformanceRun: "operator",
    Streamer: "operator",
    Stream: "streamer__operator",
    Pool: "operator",
    PoolSnapshot: "pool__operator",
    Follower: "operator",
    PlayerSession: "follower__operator",
    Position: "pool__operator",
    Transaction: "operator",
    Receipt: "position__pool__operator",
    DailySettlement: "operator",
    Invoice: "operator",
    InvoiceLine: "invoice__operator",
}


class NotScoped(LookupError):
    """A model whose rows have no known operator: the portal must not show it."""


def operator_path(model: type[models.Model]) -> str:
    concrete = model._meta.concrete_model or model  # a proxy (the review queue) is its model
    try:
        return OPERATOR_PATHS[concrete]
    except KeyError:
        raise NotScoped(
            f"{model._meta.label} has no operator path in apps.portal.tenancy"
        ) from None


def scoped[M: models.Model](
    queryset: models.QuerySet[M], operator: Operator | None
) -> models.QuerySet[M]:
    """Only the rows of ``operator`` (none at all without one)."""
    if operator is None:
        return queryset.none()
    return queryset.filter(**{operator_path(queryset.model): operator.pk})


def scoped_objects[M: models.Model](
    model: type[M], operator: Operator | None
) -> models.QuerySet[M]:
    return scoped(model._default_manager.all(), operator)
