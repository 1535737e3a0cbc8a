"""Small real PDF documents the stand-in systems attach: POD and invoice.

The documents are deliberately plain, one page of text, but they are real
PDF files made with fpdf2, so the hub's document handling sees what a real
system would send. The creation date is fixed by the caller's timestamp so
the same inputs always give the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

from fpdf import FPDF

PDF_CONTENT_TYPE = "application/pdf"


def pod_pdf(
    *,
    shipment_number: str,
    tracking_number: str,
    signed_by: str,
    delivered_at: dt.datetime,
    place: str,
) -> bytes:
    """Return a one-page proof-of-delivery PDF."""
    rows = [
        ("Shipment", shipment_number),
        ("Tracking number", tracking_number),
        ("Delivered at", delivered_at.isoformat()),
        ("Place", place),
        ("Signed by", signed_by),
    ]
    return _page("Proof of delivery", rows, created=delivered_at)


def invoice_pdf(
    *,
    invoice_number: str,
    order_number: str,
    lines: list[tuple[str, str, Decimal]],
    amount: Decimal,
    currency: str,
    issued_at: dt.datetime,
) -> bytes:
    """Return a one-page invoice PDF; ``lines`` are (description, qty, total)."""
    rows = [("Invoice", invoice_number), ("Order", order_number)]
    rows += [(f"{text} x {qty}", f"{total} {currency}") for text, qty, total in lines]
    rows.append(("Amount due", f"{amount} {currency}"))
    return _page("Invoice", rows, created=issued_at)


def attachment(*, filename: str, content: bytes) -> dict[str, str]:
    """Return the ``{filename, content_type, content_base64}`` dict of a PDF."""
    return {
        "filename": filename,
        "content_type": PDF_CONTENT_TYPE,
        "content_base64": base64.b64encode(content).decode("ascii"),
    }


def _page(title: str, rows: list[tuple[str, str]], *, created: dt.datetime) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=16)
    pdf.cell(text=title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    for label, value in rows:
        pdf.cell(w=60, text=_latin1(label))
        pdf.cell(text=_latin1(value), new_x="LMARGIN", new_y="NEXT")

    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The core PDF fonts only cover Latin-1; anything else becomes "?"
    # rather than failing the whole delivery over one name.
    return text.encode("latin-1", errors="replace").decode("latin-1")
