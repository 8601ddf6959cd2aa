"""An invoice or credit note as a document: HTML from ``templates/finance/invoice.html``,
printed to PDF by WeasyPrint.

Money in the document has 2 decimals (rounded half up, for people to read); the exact
8-place values are in the CSV (``apps.transactions.finance.resources.invoice_csv``).
"""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string

from apps.core.admin_display import money_text
from apps.transactions.finance.models import Invoice

ISSUER = "CopyStake"


def money_2(value: Decimal) -> str:
    """``1,234.57`` from ``1234.56500000``: what people read (the exact value is in the CSV),
    by the back office's one money rule (``apps.core.admin_display.money_text``)."""
    return money_text(value)


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}"


def invoice_title(invoice: Invoice) -> str:
    label = "Credit note" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "Invoice"
    return f"{label} {invoice.number or 'DRAFT'}"


def invoice_html(invoice: Invoice) -> str:
    lines = list(invoice.lines.all())
    watermark = {Invoice.State.DRAFT: "DRAFT", Invoice.State.VOID: "VOID"}.get(
        Invoice.State(invoice.state), ""
    )
    context = {
        "issuer": ISSUER,
        "invoice": invoice,
        "title": invoice_title(invoice),
        "watermark": watermark,
        "is_credit_note": invoice.kind == Invoice.Kind.CREDIT_NOTE,
        "credits": invoice.credits if invoice.credits_id else None,
        "lines": [
            {
                "line": line,
                "money_in": money_2(line.money_in) if line.day else "",
                "money_out": money_2(line.money_out) if line.day else "",
                "turnover_fee": money_2(line.turnover_fee) if line.day else "",
                "ggr_fee": money_2(line.ggr_fee) if line.day else "",
                "amount": money_2(line.amount),
            }
            for line in lines
        ],
        "subtotal": money_2(invoice.subtotal),
        "minimum_charge": money_2(invoice.minimum_charge),
        "total": money_2(invoice.total),
        "schedule": invoice.fee_schedule,
        "turnover_percent": _percent(invoice.fee_schedule.turnover_percent)
        if invoice.fee_schedule
        else "",
        "ggr_percent": _percent(invoice.fee_schedule.ggr_percent) if invoice.fee_schedule else "",
        "minimum": money_2(invoice.fee_schedule.monthly_minimum) if invoice.fee_schedule else "",
    }
    return render_to_string("finance/invoice.html", context)


def invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML

    pdf = HTML(string=invoice_html(invoice)).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when given no target
    return pdf


def invoice_filename(invoice: Invoice, extension: str) -> str:
    name = invoice.number or f"draft-{invoice.pk}"
    return f"{name}.{extension}"
