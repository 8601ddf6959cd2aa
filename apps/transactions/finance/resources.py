"""Finance exports of invoices: the invoice list (an import-export resource, streamed by the
admin through ``apps.core.exports``) and one invoice's lines as CSV with exact 8-place
values."""

from __future__ import annotations

import csv
import io

from import_export import resources

from apps.core.exports import resource_field
from apps.core.money import AMOUNT_PLACES
from apps.transactions.finance.models import Invoice


class InvoiceResource(resources.ModelResource):
    id = resource_field("id")
    number = resource_field("number")
    kind = resource_field("kind")
    state = resource_field("state")
    operator = resource_field("operator__code", "operator")
    currency = resource_field("currency")
    period_start = resource_field("period_start")
    period_end = resource_field("period_end")
    subtotal = resource_field("subtotal")
    minimum_charge = resource_field("minimum_charge")
    total = resource_field("total")
    credits = resource_field("credits__number", "credits_number")
    reason = resource_field("reason")
    issued_at = resource_field("issued_at")
    paid_at = resource_field("paid_at")
    payment_reference = resource_field("payment_reference")
    voided_at = resource_field("voided_at")
    void_reason = resource_field("void_reason")
    created_at = resource_field("created_at")

    class Meta:
        model = Invoice
        fields = (
            "id",
            "number",
            "kind",
            "state",
            "operator",
            "currency",
            "period_start",
            "period_end",
            "subtotal",
            "minimum_charge",
            "total",
            "credits",
            "reason",
            "issued_at",
            "paid_at",
            "payment_reference",
            "voided_at",
            "void_reason",
            "created_at",
        )
        export_order = fields


LINE_HEADERS = [
    "invoice",
    "state",
    "operator",
    "currency",
    "position",
    "day",
    "description",
    "money_in",
    "money_out",
    "turnover_fee",
    "ggr_fee",
    "amount",
]


def _exact(value) -> str:
    return f"{value:.{AMOUNT_PLACES}f}"


def invoice_csv(invoice: Invoice) -> str:
    """One invoice's lines and totals as CSV, every amount exact to 8 places."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LINE_HEADERS)
    head = [
        invoice.number or f"draft-{invoice.pk}",
        invoice.state,
        invoice.operator.code,
        invoice.currency,
    ]
    for line in invoice.lines.all():
        writer.writerow(
            [
                *head,
                line.position,
                line.day.isoformat() if line.day else "",
                line.description,
                _exact(line.money_in),
                _exact(line.money_out),
                _exact(line.turnover_fee),
                _exact(line.ggr_fee),
                _exact(line.amount),
            ]
        )
    for label, value in (
        ("subtotal", invoice.subtotal),
        ("minimum_charge", invoice.minimum_charge),
        ("total", invoice.total),
    ):
        writer.writerow([*head, "", "", label, "", "", "", "", _exact(value)])
    return out.getvalue()
