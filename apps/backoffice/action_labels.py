"""What each staff action code recorded in ``StaffAction.action`` is called on the pages.

A code (``pool_refresh_balance``) is what the admin records and filters on; people read its
label ("Refresh pool balance"). Every code the back office records is listed here (a test
collects the codes from the action registry and from every ``staff_action_record`` call and
fails on one without a label); a code recorded before it was listed, or by an older release,
reads as its words (``staff_action_label``).
"""

from __future__ import annotations

RECORDED_LABELS: dict[str, str] = {
    # followers and positions (apps.backoffice.admin.followers)
    "follower_block": "Block follower",
    "follower_unblock": "Unblock follower",
    "position_force_leave": "Force position out",
    # pools (apps.backoffice.admin.pools)
    "pool_refresh_balance": "Refresh balance",
    "pool_settle": "Settle and close pool",
    "pool_resend_game_pool": "Re-send OPEN/CLOSE",
    "pool_force_release": "Force release of the lock",
    # streamers, their allowlists and invite links (apps.backoffice.admin.streamers)
    "streamer_create": "Add streamer",
    "streamer_update": "Change streamer",
    "streamer_check_with_operator": "Check streamer with operator",
    "streamer_suspend": "Suspend streamer",
    "streamer_resume": "Resume streamer",
    "streamer_allowlist_add": "Add to allowlist",
    "streamer_allowlist_remove": "Remove from allowlist",
    "streamer_invite_create": "Create invite link",
    "invite_revoke": "Revoke invite link",
    # streams (apps.backoffice.admin.streams)
    "stream_start_now": "Start stream now",
    "stream_end": "End stream and pay out",
    "stream_cancel": "Cancel stream",
    # operators and their calls (apps.backoffice.admin.operators)
    "operator_create": "Add operator",
    "operator_replace_credential": "Replace credential",
    "operator_rotate_credential": "Rotate credential",
    "operator_test_connection": "Test connection",
    "operator_conformance_check": "Run conformance check",
    "operator_enable": "Enable operator",
    "operator_disable": "Disable operator",
    "call_resend": "Re-send call",
    # transactions, sagas, reconciliation (apps.backoffice.admin.transactions, run_now)
    "transaction_retry_now": "Retry transaction now",
    "transaction_roll_back": "Roll back the join",
    "transaction_mark_resolved": "Mark transaction resolved",
    "saga_retry_now": "Retry saga now",
    "discrepancy_resolve": "Resolve discrepancy",
    "reconciliation_run_now": "Run reconciliation now",
    "settlement_run_now": "Run settlement now",
    # invoices (apps.backoffice.admin.finance)
    "invoice_generate": "Generate invoices",
    "invoice_issue": "Issue invoice",
    "invoice_mark_paid": "Mark invoice paid",
    "invoice_void": "Void invoice",
    "invoice_credit_note": "Credit note",
    # the operator portal (apps.portal): staff viewing it, operators' own changes
    "portal_view_as": "View the portal as operator",
    "portal_configuration_change": "Portal: change configuration",
    "portal_keys_rotate": "Portal: rotate key and secret",
    "portal_keys_finish_rotation": "Portal: finish key rotation",
    "portal_conformance_check": "Portal: run conformance check",
    # the portal's people, by staff (apps.portal.staff_admin)
    "portal_invite_create": "Invite to the operator portal",
    "portal_invite_revoke": "Revoke portal invitation",
    "portal_user_deactivate": "Deactivate portal user",
    "portal_user_reactivate": "Reactivate portal user",
    "portal_user_grant_review": "Grant portal user review actions",
    "portal_user_withdraw_review": "Withdraw portal user review actions",
    "portal_user_reset_two_factor": "Reset portal user two-factor",
}


def staff_action_label(code: str) -> str:
    """The label of ``code``; an unlisted code as its words (``pool_x_y`` is "Pool x y")."""
    label = RECORDED_LABELS.get(code)
    if label is not None:
        return label
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "(no action)"
