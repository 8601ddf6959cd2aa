"""Writes of the back office's own records."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from apps.core.models import StaffAction

MAX_REASON_CHARS = 2000


def staff_action_record(
    *,
    user: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    reason: str,
    outcome: str,
    message: str = "",
) -> StaffAction:
    """Write the audit row of one staff action (done, refused or failed alike)."""
    opts = target._meta.concrete_model._meta  # a proxy's row is its concrete model's row
    record = StaffAction(
        user=user if user is not None and user.is_authenticated else None,
        username=(user.get_username() if user is not None else "") or "(unknown)",
        action=action[:64],
        target_type=f"{opts.app_label}.{opts.model_name}"[:100],
        target_id=str(target.pk)[:64],
        target_repr=str(target)[:200],
        reason=(reason or "").strip()[:MAX_REASON_CHARS],
        outcome=outcome,
        message=message[:5000],
    )
    record.full_clean()
    record.save()
    return record
