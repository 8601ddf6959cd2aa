"""Running the probes in order, then putting every balance back where it started."""

from __future__ import annotations

import logging

from django.utils import timezone

from apps.operators.conformance.probes import (
    CALLBACK_PROBES,
    WALLET_PROBES,
    Context,
    Probe,
    amount_text,
    follower_balance_read,
    money_payload,
    streamer_balance_read,
    transfer_send,
    wallet_call,
)
from apps.operators.conformance.report import FAIL, PASS, SKIP, ProbeResult, Report, described
from apps.operators.models import Operator

logger = logging.getLogger(__name__)

RESTORED = "balances-restored"
RESTORED_TITLE = "Every movement reversed: the balances end as they started"


def conformance_check(*, operator: Operator) -> Report:
    """Run every probe against ``operator``'s callback and wallet endpoints.

    Every call is bounded by the operator's timeout (``request_timeout_seconds``). What the
    probes moved is moved back at the end (``balances-restored`` says how, and whether the
    balances then match the ones read at the start).
    """
    ctx = Context(operator=operator, currency=operator.test_currency)
    report = Report(operator=operator.code, started_at=timezone.now().isoformat())
    for probe in [*CALLBACK_PROBES, *WALLET_PROBES]:
        report.probes.append(_run(probe, ctx))
    report.probes.append(_restore(ctx))
    report.finished_at = timezone.now().isoformat()
    return report


def _run(probe: Probe, ctx: Context) -> ProbeResult:
    try:
        return probe(ctx)
    except Exception as error:  # one broken probe must not hide the others' verdicts
        logger.exception("conformance probe %s crashed", probe.__name__)
        return ProbeResult(
            probe.__name__.replace("_", "-"),
            probe.__name__,
            FAIL,
            expected="a verdict",
            got=f"the probe could not run: {type(error).__name__}: {error}",
        )


def _restore(ctx: Context) -> ProbeResult:
    """Move back whatever the probes left moved, then compare with the start."""
    notes: list[str] = []
    failures: list[str] = []
    checked = False
    if ctx.streamer_start is not None:
        checked = True
        _restore_streamer(ctx, notes, failures)
    if ctx.follower_start is not None:
        checked = True
        _restore_follower(ctx, notes, failures)
    if not checked:
        return ProbeResult(RESTORED, RESTORED_TITLE, SKIP, why="no balance was read at the start")
    expected = "the streamer's and the follower's balances as at the start"
    if failures:
        return ProbeResult(
            RESTORED, RESTORED_TITLE, FAIL, expected=expected, got="; ".join(failures + notes)
        )
    return ProbeResult(
        RESTORED, RESTORED_TITLE, PASS, expected=expected, got="; ".join(notes) or "unchanged"
    )


def _restore_streamer(ctx: Context, notes: list[str], failures: list[str]) -> None:
    start = ctx.streamer_start
    assert start is not None
    now = streamer_balance_read(ctx)
    if now is None:
        failures.append("the streamer's balance could not be read at the end")
        return
    if now != start:
        difference = now - start
        type = "WITHDRAWAL" if difference > 0 else "DEPOSIT"
        result, _ = transfer_send(
            ctx,
            label="restore",
            user_id=ctx.operator.test_streamer_id,
            type=type,
            amount=abs(difference),
        )
        notes.append(
            f"streamer {amount_text(now)} put back with {type} {amount_text(abs(difference))}: {described(result)}"
        )
        now = streamer_balance_read(ctx)
    if now == start:
        notes.append(f"streamer {amount_text(start)} -> {amount_text(now)}")
    else:
        failures.append(
            f"the streamer's balance is {amount_text(now)}, it was {amount_text(start)}"
        )


def _restore_follower(ctx: Context, notes: list[str], failures: list[str]) -> None:
    start = ctx.follower_start
    assert start is not None
    now = follower_balance_read(ctx)
    if now is None:
        failures.append("the follower's balance could not be read at the end")
        return
    if now != start:
        difference = now - start
        name = "withdraw" if difference > 0 else "deposit"
        amount = abs(difference)
        result, _ = wallet_call(ctx, name, money_payload(ctx, label="restore", amount=amount))
        notes.append(
            f"follower {amount_text(now)} put back with /{name} {amount_text(amount)}: {described(result)}"
        )
        now = follower_balance_read(ctx)
    if now == start:
        notes.append(f"follower {amount_text(start)} -> {amount_text(now)}")
    else:
        failures.append(
            f"the follower's balance is {amount_text(now)}, it was {amount_text(start)}"
        )


__all__ = ["conformance_check"]
