"""The money flows as persisted state machines (sagas): join, leave and close-pool.

``engine`` runs them (the saga model, the lease, ``saga_advance``); ``join``, ``leave`` and
``close`` are one flow each, with its steps and transition table; ``pricing`` is the pool's
pricing claim and the applying of a transfer's answer, shared by join and leave.

What the rest of the project uses is exported here. Tests that replace one of these names
must patch the module that looks it up (``close.close_saga_for``): patching this package only
changes the name seen through it. Every caller looks the gateway up as
``apps.transactions.gateways.gateway_for`` (the engine, staff actions, reconciliation), the one
place the tests' in-memory operator replaces it.
"""

from apps.transactions.gateways import Gateway
from apps.transactions.sagas.close import CLOSE_FLOW, CloseStep, close_begin, close_saga_for
from apps.transactions.sagas.engine import (
    FLOWS,
    SAGA_LEASE,
    Flow,
    StepContext,
    Transition,
    TransitionRefused,
    backoff,
    claim_release,
    saga_advance,
    saga_lease_held,
    sagas_due,
)
from apps.transactions.sagas.join import JOIN_FLOW, TOP_UP_FLOW, JoinStep, join_begin, top_up_begin
from apps.transactions.sagas.leave import (
    LEAVE_FLOW,
    MAX_REPRICES,
    LeaveStep,
    leave_begin,
    leave_part_begin,
    pool_pay_out_all,
    positions_pay_out,
)

__all__ = [
    "claim_release",
    "saga_lease_held",
    "CLOSE_FLOW",
    "FLOWS",
    "JOIN_FLOW",
    "LEAVE_FLOW",
    "MAX_REPRICES",
    "SAGA_LEASE",
    "CloseStep",
    "Flow",
    "Gateway",
    "JoinStep",
    "LeaveStep",
    "StepContext",
    "Transition",
    "TransitionRefused",
    "backoff",
    "close_begin",
    "close_saga_for",
    "join_begin",
    "leave_begin",
    "leave_part_begin",
    "top_up_begin",
    "TOP_UP_FLOW",
    "pool_pay_out_all",
    "positions_pay_out",
    "saga_advance",
    "sagas_due",
]
