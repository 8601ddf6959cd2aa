"""The staff back office's admin pages, one module per area; importing them registers them.

They live here, above every domain app, because they combine several apps (a pool page shows
positions and transactions; the review queue drives sagas) and record every confirmed action
as a ``StaffAction``. Pages of one app alone stay in that app's ``admin.py``.
"""

from apps.backoffice.admin import operators, pools, staff, transactions

__all__ = ["operators", "pools", "staff", "transactions"]
