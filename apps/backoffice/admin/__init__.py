"""The staff back office's admin pages, one module per area; importing them registers them.

They live here, above every domain app, because they combine several apps (a pool page shows
positions and transactions; the review queue drives sagas) and record every confirmed action
as a ``StaffAction``: streamers and streams (ending one pays its pools out), followers and
positions (blocking, force leave), pools, transactions, operators and staff.
"""

from apps.backoffice.admin import (
    finance,
    followers,
    journal,
    operators,
    pools,
    staff,
    streamers,
    streams,
    transactions,
)

__all__ = [
    "finance",
    "followers",
    "journal",
    "operators",
    "pools",
    "staff",
    "streamers",
    "streams",
    "transactions",
]
