"""A customer's visit in a real browser: log in, track, download, return, log out."""

from __future__ import annotations

import datetime as dt
import re
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.common.exceptions import (
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from orders.models import ReturnRequest
from tests.portal.factories import (
    PASSWORD,
    ConnectionFactory,
    EtaRevisionFactory,
    OrderLineFactory,
    ServiceAlertFactory,
    ShipmentFactory,
    TrackingEventFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Generous, since the suite may share the machine with other busy work.
WAIT_SECONDS = 20
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T"
# A date-only estimate, which the pages must show as a date.
ETA_DAY = dt.date.today() + dt.timedelta(days=2)


@pytest.fixture
def shipped_order(acme):
    """Give ACME a second order on its way, with a timeline, an ETA and an alert."""
    now = timezone.now()
    line = OrderLineFactory(
        order__account=acme.account,
        order__number="SO-A2",
        order__po_number="PO-A2",
        order__status="shipped",
        item__sku="SKU-PALLET",
        item__description="Euro pallet, heat treated",
    )
    shipment = ShipmentFactory(
        order=line.order,
        number="SH-A2",
        status="in_transit",
        carrier__name="Ridgeline Freight",
        service__name="Two Day",
        tracking_numbers=["1ZRIDGE0042"],
        last_actual_at=now - dt.timedelta(hours=6),
        eta=None,
        eta_date=ETA_DAY,
    )
    for status, kind, hours, city in [
        ("picked_up", "actual", -30, "Columbus"),
        ("in_transit", "actual", -6, "Dayton"),
        ("delivered", "estimated", 40, ""),
    ]:
        TrackingEventFactory(
            shipment=shipment,
            status=status,
            kind=kind,
            occurred_at=now + dt.timedelta(hours=hours),
            city=city,
        )
    for day in (ETA_DAY - dt.timedelta(days=1), ETA_DAY):
        EtaRevisionFactory(shipment=shipment, eta=None, eta_date=day)
    ServiceAlertFactory(
        shipment=shipment,
        message="Severe weather is slowing deliveries in Ohio.",
        raised_at=now - dt.timedelta(hours=3),
    )
    return line.order


def wait_for_heading(browser, text: str) -> None:
    # While the next page loads, the heading found can belong to the page
    # being left; Chromium then reports "Node ... does not belong to the
    # document" as a generic WebDriverException, which only means "not yet".
    WebDriverWait(
        browser,
        WAIT_SECONDS,
        ignored_exceptions=(StaleElementReferenceException, WebDriverException),
    ).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


def download(url: str, session_cookie: str) -> tuple[int, dict, bytes]:
    """Fetch a URL with the browser's session, as the download link would."""
    request = urllib.request.Request(url, headers={"Cookie": session_cookie})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


def test_customer_tracks_an_order_downloads_its_pod_and_requests_a_return(
    acme, shipped_order, live_server, browser, screenshots: Path
):
    ConnectionFactory(code="erp")

    # Log in: the portal sends a visitor to the login page first.
    browser.get(f"{live_server.url}/orders/")
    wait_for_heading(browser, "Log in to Waybill")
    browser.save_screenshot(str(screenshots / "login.png"))
    browser.find_element(By.NAME, "username").send_keys(acme.user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_heading(browser, "Orders")

    # The order list: newest first, this account's orders only.
    rows = [
        row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    ]
    assert [row.split(" ")[:3] for row in rows] == [
        ["SO-A2", "PO-A2", "Shipped"],
        ["SO-A1", "PO-A1", "Delivered"],
    ]
    assert browser.find_element(By.CSS_SELECTOR, ".account-name").text == "Acme Tools"
    browser.save_screenshot(str(screenshots / "orders.png"))

    # An order, then its shipment's tracking page.
    browser.find_element(By.LINK_TEXT, "SO-A2").click()
    wait_for_heading(browser, "Order SO-A2")
    alert = browser.find_element(By.CSS_SELECTOR, ".alert").text
    assert alert.startswith(
        "Service alert: Severe weather is slowing deliveries in Ohio."
    )
    browser.save_screenshot(str(screenshots / "order.png"))
    browser.find_element(By.LINK_TEXT, "SH-A2").click()
    wait_for_heading(browser, "Shipment SH-A2")

    timeline = [
        item.text for item in browser.find_elements(By.CSS_SELECTOR, "ol.timeline li")
    ]
    assert [re.sub(STAMP, "<time>", text) for text in timeline] == [
        "<time>\nPicked up ACTUAL\nColumbus, OH US",
        "<time>\nIn transit ACTUAL\nDayton, OH US",
        "<time>\nDelivered ESTIMATED",
    ]
    assert browser.find_element(By.CSS_SELECTOR, "dd.eta").text == ETA_DAY.isoformat()
    assert re.fullmatch(
        f"Last confirmed milestone: In transit at {STAMP}",
        browser.find_element(By.CSS_SELECTOR, ".last-milestone").text,
    )
    browser.save_screenshot(str(screenshots / "tracking.png"))
    browser.find_element(By.LINK_TEXT, "Shipments").click()
    wait_for_heading(browser, "Shipments")
    browser.save_screenshot(str(screenshots / "shipments.png"))

    # Documents: the link goes through the authorised view, as an attachment.
    browser.find_element(By.LINK_TEXT, "Documents").click()
    wait_for_heading(browser, "Documents")
    link = browser.find_element(By.LINK_TEXT, "POD-A1")
    href = link.get_attribute("href")
    session = browser.get_cookie("sessionid")["value"]
    status, headers, body = download(href, f"sessionid={session}")
    assert href == f"{live_server.url}/documents/{acme.document.pk}/download/"
    assert (status, headers["Content-Disposition"]) == (
        200,
        'attachment; filename="POD-A1.pdf"',
    )
    assert body == b"%PDF-1.4 POD-A1"
    browser.save_screenshot(str(screenshots / "documents.png"))

    # A return request for the delivered order.
    browser.find_element(By.LINK_TEXT, "Orders").click()
    wait_for_heading(browser, "Orders")
    browser.find_element(By.LINK_TEXT, "SO-A1").click()
    wait_for_heading(browser, "Order SO-A1")
    browser.find_element(By.LINK_TEXT, "Request a return").click()
    wait_for_heading(browser, "Request a return")
    quantity = browser.find_element(By.NAME, f"line_{acme.line.pk}")
    quantity.clear()
    quantity.send_keys("2")
    browser.find_element(By.NAME, "reason").send_keys("Arrived damaged")
    browser.save_screenshot(str(screenshots / "return-form.png"))
    browser.find_element(By.CSS_SELECTOR, "form.return-form button").click()
    created = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: ReturnRequest.objects.filter(reason="Arrived damaged").first()
    )
    wait_for_heading(browser, f"Return {created.number}")
    assert heading(browser) == f"Return {created.number} Requested"
    browser.save_screenshot(str(screenshots / "return.png"))
    browser.find_element(By.LINK_TEXT, "Returns").click()
    wait_for_heading(browser, "Return requests")
    browser.save_screenshot(str(screenshots / "returns.png"))

    # Log out: the session ends, and the portal asks for a login again.
    browser.find_element(By.CSS_SELECTOR, "header .who button").click()
    wait_for_heading(browser, "Log in to Waybill")
    browser.get(f"{live_server.url}/orders/")
    wait_for_heading(browser, "Log in to Waybill")
    assert browser.current_url == f"{live_server.url}/login/?next=/orders/"
