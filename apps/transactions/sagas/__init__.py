"""The money flows as persisted state machines (sagas): join, leave and close-pool.

The engine lives in ``engine``; what the rest of the project uses is exported here. Tests
that replace one of these names must patch the module that looks it up (``engine``).
"""

from apps.transactions.sagas.engine import (
    SAGA_LEASE,
    backoff,
    close_saga_for,
    gateway_for,
    pool_close_begin,
    pool_pay_out_all,
    position_leave_begin,
    saga_advance,
    sagas_due,
)

__all__ = [
    "SAGA_LEASE",
    "backoff",
    "close_saga_for",
    "gateway_for",
    "pool_close_begin",
    "pool_pay_out_all",
    "position_leave_begin",
    "saga_advance",
    "sagas_due",
]
