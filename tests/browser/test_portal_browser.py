"""A customer's visit in a real browser: log in, track, download, return, log out."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from orders.models import ReturnRequest
from tests.portal.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_tracks_an_order_downloads_its_pod_and_requests_a_return(
    worlds, live_server, browser, screenshots
):
    acme, _ = worlds
    browser.get(f"{live_server.url}/orders/")

    browser.find_element(By.NAME, "username").send_keys("alice")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Orders"
    rows = [
        row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    ]
    # The demo seed also gives Acme the shipment its sample EDI file reports on.
    assert sorted(row.split(" ")[0] for row in rows) == ["SO-A1", "SO-EDI-1001"]
    assert any(row.startswith("SO-A1 PO-A1 Delivered") for row in rows)
    browser.save_screenshot(str(screenshots / "orders.png"))

    browser.find_element(By.LINK_TEXT, "SO-A1").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Order SO-A1 Delivered"
    pod_link = browser.find_element(By.PARTIAL_LINK_TEXT, "Proof of delivery POD-A1")
    assert (
        pod_link.get_attribute("href")
        == f"{live_server.url}/documents/{acme.document.pk}/download/"
    )
    browser.save_screenshot(str(screenshots / "order.png"))

    browser.find_element(By.LINK_TEXT, "SH-A1").click()
    milestone = browser.find_element(By.CSS_SELECTOR, ".last-milestone").text
    timeline = [
        item.text for item in browser.find_elements(By.CSS_SELECTOR, "ol.timeline li")
    ]
    assert milestone.startswith("Last confirmed milestone: Delivered at ")
    assert (
        len(timeline) == 1 and "Delivered" in timeline[0] and "Columbus" in timeline[0]
    )
    browser.save_screenshot(str(screenshots / "tracking.png"))

    browser.get(f"{live_server.url}/orders/SO-A1/")
    browser.find_element(By.LINK_TEXT, "Request a return").click()
    quantity = browser.find_element(By.CSS_SELECTOR, "input[name^=line_]")
    quantity.clear()
    quantity.send_keys("1")
    browser.find_element(By.NAME, "reason").send_keys("Arrived damaged")
    browser.save_screenshot(str(screenshots / "return-form.png"))
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    created = ReturnRequest.objects.get(reason="Arrived damaged")
    assert (
        browser.find_element(By.TAG_NAME, "h1").text
        == f"Return {created.number} Requested"
    )

    browser.find_element(By.CSS_SELECTOR, "header .who button").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Log in to Waybill"
    browser.get(f"{live_server.url}/orders/")
    assert "/login/" in browser.current_url
