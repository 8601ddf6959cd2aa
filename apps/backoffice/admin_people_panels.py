"""Panels of the follower and streamer pages, the pages support start a ticket from: who the
player is and whether they are blocked (by whom and why), their net result, their latest
sessions and transactions with links to each saga and operator call, and links to every list
filtered to them.

Each panel reads a bounded number of rows (the latest ``LATEST``) in a fixed number of
queries, whatever the follower's history; the full lists are one "see all" link away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.backoffice.followers import follower_block_record
from apps.backoffice.models import StaffAction
from apps.core.admin_display import EMPTY, admin_link, badge, changelist_url, money
from apps.followers.models import Follower, PlayerSession, Position
from apps.followers.selectors import OPEN_STATUSES, follower_position_totals
from apps.operators.models import CallLog, Operator
from apps.pools.models import Pool
from apps.streamers.models import Streamer
from apps.transactions.models import Saga, Transaction
from apps.transactions.selectors import follower_net_result

LATEST = 20
LATEST_SESSIONS = 10

KIND_SHORT: dict[str, str] = {
    Transaction.Kind.FOLLOWER_DEBIT.value: "BET (wallet withdraw)",
    Transaction.Kind.STREAMER_DEPOSIT.value: "DEPOSIT transfer",
    Transaction.Kind.STREAMER_WITHDRAWAL.value: "WITHDRAWAL transfer",
    Transaction.Kind.FOLLOWER_CREDIT.value: "WIN (wallet deposit)",
    Transaction.Kind.FOLLOWER_ROLLBACK.value: "Refund of a BET",
    Transaction.Kind.PERFORMANCE_FEE.value: "Performance fee",
}


def when(moment) -> str:
    return EMPTY if moment is None else f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Button:
    label: str
    url: str
    dangerous: bool = False


# --- the follower's header --------------------------------------------------------------


@dataclass(frozen=True)
class PositionCounts:
    open: int
    closed: int
    failed: int


def position_counts(follower: Follower) -> PositionCounts:
    figures = Position.objects.filter(follower=follower).aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        closed=Count("pk", filter=Q(status=Position.Status.CLOSED)),
        failed=Count("pk", filter=Q(status=Position.Status.FAILED)),
    )
    return PositionCounts(**figures)


def follower_lists(follower: Follower) -> dict[str, str]:
    """The changelists filtered to this follower."""
    return {
        "positions": changelist_url(Position, follower__id__exact=follower.pk),
        "open positions": changelist_url(
            Position, follower__id__exact=follower.pk, status__in=",".join(OPEN_STATUSES)
        ),
        "closed positions": changelist_url(
            Position, follower__id__exact=follower.pk, status__exact=Position.Status.CLOSED
        ),
        "transactions": changelist_url(Transaction, follower__id__exact=follower.pk),
        "sessions": changelist_url(PlayerSession, follower__id__exact=follower.pk),
        "operator calls": changelist_url(CallLog, follower=follower.pk),
        "staff actions": changelist_url(
            StaffAction, target_type="followers.follower", target_id=str(follower.pk)
        ),
    }


def see_all(links: dict[str, str], names: Sequence[str]) -> SafeString:
    return format_html(
        '<p class="cp-see-all"><strong>See all:</strong> {}</p>',
        format_html_join(mark_safe(" · "), '<a href="{}">{}</a>', ((links[n], n) for n in names)),
    )


def _buttons(buttons: Sequence[Button]) -> SafeString | str:
    if not buttons:
        return ""
    return format_html(
        '<p class="cp-summary-actions">{}</p>',
        format_html_join(
            " ",
            '<a href="{}" class="button cp-action{}">{}</a>',
            ((b.url, " cp-action--danger" if b.dangerous else "", b.label) for b in buttons),
        ),
    )


def _block_section(follower: Follower, buttons: Sequence[Button]) -> SafeString:
    record = follower_block_record(follower=follower)
    if follower.is_blocked:
        state = badge("blocked", "failed")
        rows = [("Since", when(follower.blocked_at))]
        if record is not None:
            rows += [("By", record.username), ("Why", record.reason)]
        else:
            rows += [("By", "not recorded as a staff action"), ("Why", follower.blocked_reason)]
    else:
        state = badge("may join", "active")
        rows = []
        if record is not None:
            rows = [
                ("Last change", f"{record.action_label}, {when(record.created_at)}"),
                ("By", record.username),
                ("Why", record.reason),
            ]
    details = format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows)
    return format_html(
        '<section class="cp-summary-block"><h3>Block state</h3><p>{}</p>'
        '<dl class="cp-kv">{}</dl>{}</section>',
        state,
        details,
        _buttons(buttons),
    )


def _net_result_section(follower: Follower) -> SafeString:
    results = follower_net_result(follower=follower)
    worth = {t.currency: t.value_now for t in follower_position_totals(follower=follower)}
    if not results:
        body = format_html('<p class="quiet">{}</p>', "No wallet movement yet.")
    else:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td class='cp-num'>{}</td><td class='cp-num'>{}</td>"
            "<td class='cp-num cp-net'>{}</td><td class='cp-num'>{}</td>"
            "<td class='cp-num'>{}</td></tr>",
            (
                (
                    r.currency,
                    money(r.debited),
                    money(r.returned),
                    format_html(
                        '<span class="cp-{}">{}</span>',
                        "up" if r.net > 0 else "down" if r.net < 0 else "flat",
                        money(r.net),
                    ),
                    money(worth.get(r.currency, Decimal(0))),
                    format_html("{} ({})", r.in_doubt, money(r.in_doubt_amount))
                    if r.in_doubt
                    else "0",
                )
                for r in results
            ),
        )
        body = format_html(
            '<table class="cp-table cp-net-result"><thead><tr><th>Currency</th>'
            '<th class="cp-num">Debited (BETs)</th><th class="cp-num">Returned (WINs, refunds)'
            '</th><th class="cp-num">Net result</th><th class="cp-num">Open positions worth</th>'
            '<th class="cp-num">In doubt</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            rows,
        )
    return format_html(
        '<section class="cp-summary-net"><h3>Net result</h3>{}'
        '<p class="mini quiet">{}</p></section>',
        body,
        "From the wallet's settled movements: what came back less what was debited. Open "
        "positions are worth their units at the pool's last known NAV (not in the net result "
        "until they leave). In doubt: BETs, WINs or refunds not settled yet (not counted).",
    )


def follower_summary(follower: Follower, *, buttons: Sequence[Button] = ()) -> SafeString:
    """The header of the follower's page: identity, block state, position counts, net result
    and the lists filtered to them (5 queries)."""
    counts = position_counts(follower)
    links = follower_lists(follower)
    identity = format_html(
        '<section class="cp-summary-who"><h3>Player</h3><dl class="cp-kv">'
        "<dt>Operator</dt><dd>{}</dd><dt>Operator user id</dt><dd><code>{}</code></dd>"
        "<dt>Nickname</dt><dd>{}</dd><dt>Kind</dt><dd>{}</dd><dt>First seen</dt><dd>{}</dd>"
        "</dl></section>",
        admin_link(Operator, follower.operator_id, follower.operator.name),
        follower.operator_user_id,
        follower.username or EMPTY,
        "demo (play money)" if follower.is_demo else "real money",
        when(follower.created_at),
    )
    positions = format_html(
        '<section class="cp-summary-positions"><h3>Positions</h3><dl class="cp-kv">'
        '<dt>Open</dt><dd><a href="{}">{}</a></dd><dt>Closed</dt><dd><a href="{}">{}</a></dd>'
        "<dt>Failed joins</dt><dd>{}</dd></dl></section>",
        links["open positions"],
        counts.open,
        links["closed positions"],
        counts.closed,
        counts.failed,
    )
    return format_html(
        '<div class="cp-summary">{}{}{}{}</div>{}',
        identity,
        _block_section(follower, buttons),
        positions,
        _net_result_section(follower),
        see_all(
            links, ("positions", "transactions", "sessions", "operator calls", "staff actions")
        ),
    )


# --- sessions ---------------------------------------------------------------------------


def sessions_panel(follower: Follower, *, limit: int = LATEST_SESSIONS) -> SafeString | str:
    """The follower's latest sessions (what ``init`` opened), newest first (one query)."""
    sessions = list(
        PlayerSession.objects.filter(follower=follower)
        .order_by("-created_at", "-id")
        .only(
            "id", "uid", "currency", "language", "stream_uid", "is_demo", "created_at", "expires_at"
        )[:limit]
    )
    if not sessions:
        return "No session yet."
    now = timezone.now()
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                admin_link(PlayerSession, s.pk, str(s.uid)[:8] + "…"),
                when(s.created_at),
                format_html(
                    "{} {}",
                    when(s.expires_at),
                    badge("valid", "active") if s.expires_at > now else badge("expired", "closed"),
                ),
                s.currency + (" (demo)" if s.is_demo else ""),
                s.language or EMPTY,
                str(s.stream_uid)[:8] + "…" if s.stream_uid else EMPTY,
            )
            for s in sessions
        ),
    )
    return format_html(
        '<table class="cp-table"><thead><tr><th>Session</th><th>Opened</th><th>Expires</th>'
        "<th>Currency</th><th>Language</th><th>Stream</th></tr></thead><tbody>{}</tbody></table>"
        '<p class="mini quiet">Newest first, at most {}. No "last seen" is kept: a session '
        "is used until it expires.</p>",
        rows,
        limit,
    )


# --- transactions -----------------------------------------------------------------------


def _call_counts(transactions: Sequence[Transaction]) -> dict[tuple[int, str], int]:
    """How many operator calls each transaction has in the call log (one query)."""
    if not transactions:
        return {}
    rows = (
        CallLog.objects.filter(
            operator_id__in={tx.operator_id for tx in transactions},
            external_id__in={tx.external_id for tx in transactions},
        )
        .order_by()
        .values("operator_id", "external_id")
        .annotate(calls=Count("pk"))
    )
    return {(row["operator_id"], row["external_id"]): row["calls"] for row in rows}


def _saga_cell(tx: Transaction) -> SafeString | str:
    if tx.saga_id is None:
        return EMPTY
    saga = tx.saga
    assert saga is not None
    return format_html(
        "{} {}",
        admin_link(Saga, saga.pk, f"#{saga.pk} {saga.get_kind_display()}"),
        badge(saga.get_status_display(), saga.status),
    )


def _calls_cell(tx: Transaction, counts: dict[tuple[int, str], int]) -> SafeString | str:
    calls = counts.get((tx.operator_id, tx.external_id), 0)
    if not calls:
        return format_html('<span class="quiet">{}</span>', "none")
    return format_html(
        '<a href="{}">{} call{}</a>',
        changelist_url(CallLog, q=tx.external_id),
        calls,
        "" if calls == 1 else "s",
    )


def transactions_panel(
    transactions: QuerySet[Transaction], *, limit: int = LATEST, show_follower: bool = False
) -> SafeString | str:
    """The latest ``limit`` of ``transactions``, newest first, each with its pool, its saga
    and its operator calls (two queries)."""
    related = ["saga", "pool"] + (["follower"] if show_follower else [])
    latest = list(transactions.select_related(*related).order_by("-created_at", "-id")[:limit])
    if not latest:
        return "No transaction yet."
    counts = _call_counts(latest)
    header = "<th>Follower</th>" if show_follower else ""
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td class='cp-nowrap'>{}</td><td>{}</td><td>{}</td>"
        "<td class='cp-num'>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>",
        (
            (
                admin_link(Transaction, tx.pk),
                when(tx.created_at),
                KIND_SHORT.get(tx.kind, tx.get_kind_display()),
                badge(tx.get_status_display(), tx.status),
                money(tx.amount, tx.currency),
                admin_link(Pool, tx.pool_id) if tx.pool_id else EMPTY,
                format_html(
                    "<td>{}</td>",
                    admin_link(Follower, tx.follower_id, str(tx.follower))
                    if tx.follower_id
                    else EMPTY,
                )
                if show_follower
                else "",
                _saga_cell(tx),
                _calls_cell(tx, counts),
            )
            for tx in latest
        ),
    )
    return format_html(
        '<table class="cp-table cp-latest-transactions"><thead><tr><th>#</th><th>When</th>'
        '<th>Kind</th><th>Status</th><th class="cp-num">Amount</th><th>Pool</th>{}<th>Saga</th>'
        "<th>Operator calls</th></tr></thead><tbody>{}</tbody></table>",
        mark_safe(header),
        rows,
    )


# --- the streamer's page ------------------------------------------------------------------


def streamer_transactions_panel(streamer: Streamer, *, limit: int = LATEST) -> SafeString:
    """The latest transactions of the streamer's pools, with who they were for, and the lists
    filtered to the streamer (three queries)."""
    links = {
        "transactions": changelist_url(Transaction, streamer__id__exact=streamer.pk),
        "pools": changelist_url(Pool, streamer__id__exact=streamer.pk),
        "staff actions": changelist_url(
            StaffAction, target_type="streamers.streamer", target_id=str(streamer.pk)
        ),
    }
    return format_html(
        "{}{}",
        transactions_panel(
            Transaction.objects.filter(streamer=streamer), limit=limit, show_follower=True
        ),
        see_all(links, ("transactions", "pools", "staff actions")),
    )
