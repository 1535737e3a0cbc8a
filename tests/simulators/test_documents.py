"""The PDFs the simulators attach are real, small and reproducible."""

from __future__ import annotations

import base64
import datetime as dt
import re
import zlib
from decimal import Decimal

from integrations.simulators.documents import attachment, invoice_pdf, pod_pdf

DELIVERED_AT = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)


def _page_text(pdf: bytes) -> bytes:
    """Return the page's decompressed content stream."""
    stream = re.search(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S).group(1)
    return zlib.decompress(stream)


def make_pod() -> bytes:
    return pod_pdf(
        shipment_number="SH-SO-1",
        tracking_number="5231448484",
        signed_by="J. SMITH",
        delivered_at=DELIVERED_AT,
        place="Columbus, OH, US",
    )


def test_pod_is_a_real_pdf_naming_shipment_and_signer():
    pdf = make_pod()

    text = _page_text(pdf)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"Proof of delivery" in text
    assert b"SH-SO-1" in text and b"J. SMITH" in text


def test_same_inputs_make_the_same_pdf_bytes():
    assert make_pod() == make_pod()


def test_invoice_pdf_lists_lines_and_amount():
    pdf = invoice_pdf(
        invoice_number="INV-SO-1",
        order_number="SO-1",
        lines=[("SKU-A", "3", Decimal("55.50"))],
        amount=Decimal("55.50"),
        currency="USD",
        issued_at=DELIVERED_AT,
    )

    text = _page_text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert b"INV-SO-1" in text and b"55.50 USD" in text


def test_attachment_carries_the_pdf_as_base64():
    pdf = make_pod()

    document = attachment(filename="POD-SH-SO-1.pdf", content=pdf)

    assert document == {
        "filename": "POD-SH-SO-1.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(pdf).decode(),
    }


def test_characters_outside_latin1_do_not_break_the_pdf():
    pdf = pod_pdf(
        shipment_number="SH-1",
        tracking_number="1",
        signed_by="Zoë 李",
        delivered_at=DELIVERED_AT,
        place="Köln",
    )

    text = _page_text(pdf)
    assert b"(Zo\xeb ?) Tj" in text
    assert b"(K\xf6ln) Tj" in text
