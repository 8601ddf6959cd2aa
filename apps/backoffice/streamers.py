"""Staff actions on streamers: check them with their operator, suspend them (paying their pools
out now, or when the stream ends).

The check is a signed ``streamer-balance`` through the saga engine's gateway
(``gateways.gateway_for(streamer).balance_of``), written to the call log like every call;
no pool is involved and no money moves. Suspending is ``streamers.services.streamer_suspend``;
paying out is the engine's ``pool_settle``, the very flow a stream end runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.core.errors import ErrorCode, ValidationFailed
from apps.followers.models import Position
from apps.pools.models import Pool
from apps.streamers.models import Streamer
from apps.streamers.services import streamer_suspend
from apps.transactions import gateways
from apps.transactions.services import pool_settle


@dataclass(frozen=True)
class OperatorVerdict:
    """What the operator said about the streamer, in one line for staff."""

    ok: bool
    text: str
    balance: Decimal | None = None
    error_code: str = ""


def streamer_check_with_operator(*, streamer: Streamer) -> OperatorVerdict:
    """Ask the operator for the streamer's balance now (display only: nothing is recorded on
    any pool, no money moves). "OK: balance X CUR", the operator's refusal with its code and
    message, or no answer (a timeout or an unreadable answer)."""
    streamer = Streamer.objects.select_related("operator").get(pk=streamer.pk)
    result = gateways.gateway_for(streamer).balance_of(streamer=streamer)
    if result.ok:
        balance = result.amount("balance")
        currency = str(result.data.get("currency") or streamer.currency)
        text = f"OK: balance {balance:,.8f} {currency}"
        if currency != streamer.currency:
            text += f" (the streamer's currency here is {streamer.currency})"
        return OperatorVerdict(ok=currency == streamer.currency, text=text, balance=balance)
    code = result.error_code
    detail = " ".join(filter(None, [code, result.error_message]))[:300]
    if result.refused:
        return OperatorVerdict(
            ok=False,
            text=f"Refused by the operator (HTTP {result.status}): {detail}",
            error_code=code,
        )
    if code == ErrorCode.TIMEOUT:
        text = "No answer: the operator did not answer in time (timeout)"
    else:
        text = f"No answer: {detail or 'no usable answer'}"
    return OperatorVerdict(ok=False, text=text, error_code=code)


@dataclass(frozen=True)
class SuspendOutcome:
    streamer: Streamer
    pools: int  # open pools
    leaves_started: int
    joining: int  # joins in flight when paying out (they leave once they are in)

    def describe(self, *, pay_out_now: bool) -> str:
        if not self.pools:
            return "suspended; no open pool"
        if not pay_out_now:
            return (
                f"suspended; {self.pools} open pool(s) take no new joins and pay out when the "
                "stream ends (or as followers leave)"
            )
        text = f"suspended; {self.leaves_started} leave(s) started in {self.pools} pool(s)"
        if self.joining:
            text += f"; {self.joining} join(s) still in progress leave as soon as they are in"
        return text


def streamer_suspend_by_staff(
    *, streamer: Streamer, pay_out_now: bool, who: str, reason: str
) -> SuspendOutcome:
    """Suspend the streamer (no new joins, cannot go live) and, with ``pay_out_now``, pay
    every open pool of theirs out at once: ``pool_settle`` with the reason
    "streamer suspended by staff <who>, <reason>" on the pool. Otherwise the pools pay out
    when the live stream ends, as any pool does (``streams_end`` settles a suspended
    streamer's pools like any other's)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "A reason is required to suspend a streamer", code=ErrorCode.REASON_REQUIRED
        )
    streamer = streamer_suspend(streamer=streamer)
    open_pools = list(Pool.objects.filter(streamer=streamer, state=Pool.State.OPEN).order_by("pk"))
    started = 0
    if pay_out_now:
        for pool in open_pools:
            started += len(
                pool_settle(
                    pool=pool,
                    reason=f"streamer suspended by staff {who}, {reason}",
                    leave_reason=Position.LeaveReason.STAFF,
                )
            )
    joining = Position.objects.filter(pool__in=open_pools, status=Position.Status.JOINING).count()
    return SuspendOutcome(
        streamer=streamer, pools=len(open_pools), leaves_started=started, joining=joining
    )
