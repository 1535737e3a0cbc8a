"""Behaviour every simulator shares: signatures, idempotency, faults, sending."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from tests.simulators.conftest import DROP, wait_until
from tests.simulators.payloads import fulfilment_requested, order_released


def test_ready_line_gives_a_loopback_url_that_answers(start_simulator):
    wms = start_simulator("wms")

    state = wms.state()

    assert wms.url.startswith("http://127.0.0.1:")
    assert (state["name"], state["connection"], state["pending"]) == ("wms", "wms", 0)


def test_signed_delivery_is_accepted_with_202(start_simulator):
    wms = start_simulator("wms")

    response = wms.deliver("fulfilment.requested", fulfilment_requested(), key="k-1")

    assert response.status_code == 202
    assert response.json() == {"id": "k-1", "duplicate": False}


def test_delivery_with_one_byte_changed_is_refused_with_401(start_simulator):
    wms = start_simulator("wms")

    response = wms.deliver("fulfilment.requested", fulfilment_requested(), tamper=True)

    assert response.status_code == 401
    assert response.json() == {"error": "no signature matches"}
    state = wms.state()
    assert (state["received_count"], state["rejected"]) == (0, {"401": 1})


def test_delivery_signed_with_another_secret_is_refused_with_401(start_simulator):
    wms = start_simulator("wms")

    response = wms.deliver(
        "fulfilment.requested", fulfilment_requested(), secret="not-the-secret"
    )

    assert response.status_code == 401


def test_repeated_idempotency_key_answers_200_and_reacts_once(start_simulator, hub):
    wms = start_simulator("wms")

    first = wms.deliver("fulfilment.requested", fulfilment_requested(), key="same")
    second = wms.deliver("fulfilment.requested", fulfilment_requested(), key="same")
    hub.wait_for_accepted(3)
    time.sleep(0.2)

    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json() == {"id": "same", "duplicate": True}
    assert [e["type"] for e in hub.accepted()] == [
        "order.allocated",
        "order.picked",
        "shipment.packed",
    ]
    state = wms.state()
    assert (state["duplicates"], state["duplicate_keys"]) == (1, ["same"])
    assert [
        r["idempotency_key"] for r in state["received"]["fulfilment.requested"]
    ] == ["same"]


def test_state_lists_what_was_received_with_its_idempotency_key(start_simulator):
    erp = start_simulator("erp")
    flag = {"order_number": "SO-9", "reason_code": "weather", "message": "Delayed"}

    erp.deliver("order.flagged", flag, key="order.flagged:SO-9")

    assert erp.state()["received"] == {
        "order.flagged": [
            {
                "idempotency_key": "order.flagged:SO-9",
                "subject": "SO-9",
                "correlationid": "SO-9",
                "data": flag,
            }
        ]
    }


def test_unknown_event_type_is_refused_with_422_and_a_reason(start_simulator):
    wms = start_simulator("wms")

    response = wms.deliver("invoice.release_requested", {"order_number": "SO-1"})

    assert response.status_code == 422
    assert response.json() == {
        "error": "unknown event type 'invoice.release_requested'"
    }


def test_fail_next_answers_500_that_many_times_then_accepts(start_simulator, hub):
    wms = start_simulator("wms")
    assert wms.control("config", {"fail_next": 2}).status_code == 200

    statuses = [
        wms.deliver("fulfilment.requested", fulfilment_requested(), key="k").status_code
        for _ in range(3)
    ]

    assert statuses == [500, 500, 202]
    state = wms.state()
    assert (state["failures_injected"], state["config"]["fail_next"]) == (2, 0)
    assert len(state["received"]["fulfilment.requested"]) == 1


def test_fail_status_chooses_the_injected_answer(start_simulator):
    wms = start_simulator("wms")
    wms.control("config", {"fail_next": 1, "fail_status": 503})

    response = wms.deliver("fulfilment.requested", fulfilment_requested())

    assert response.status_code == 503
    assert response.json() == {"error": "injected failure"}


def test_latency_delays_every_events_answer(start_simulator):
    wms = start_simulator("wms")
    wms.control("config", {"latency_ms": 300})

    started = time.monotonic()
    response = wms.deliver("fulfilment.requested", fulfilment_requested())
    elapsed = time.monotonic() - started

    assert response.status_code == 202
    assert elapsed >= 0.3


def test_down_closes_connections_without_answering(start_simulator):
    wms = start_simulator("wms")
    wms.control("config", {"down": True})

    with pytest.raises(requests.ConnectionError):
        wms.deliver("fulfilment.requested", fulfilment_requested())
    state_while_down = wms.state()
    wms.control("config", {"down": False})
    after = wms.deliver("fulfilment.requested", fulfilment_requested())

    assert state_while_down["config"]["down"] is True
    assert state_while_down["received_count"] == 0
    assert after.status_code == 202


def test_down_simulator_sends_nothing_until_it_is_back_up(start_simulator, hub):
    erp = start_simulator("erp")
    erp.control("config", {"down": True})

    erp.control("orders", {"orders": [order_released()]})
    time.sleep(0.3)
    held_back = (len(hub.deliveries), erp.state()["pending"])
    erp.control("config", {"down": False})

    assert held_back == (0, 1)
    assert [e["data"] for e in hub.wait_for_accepted(1)] == [order_released()]


def test_webhook_is_a_signed_compact_cloudevent(start_simulator, hub):
    erp = start_simulator("erp")

    erp.control("orders", {"orders": [order_released()]})
    [event] = hub.wait_for_accepted(1)

    delivery = hub.deliveries[0]
    assert delivery.path == "/integrations/inbound/erp/"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["webhook-id"] == event["id"]
    assert b": " not in delivery.body and b", " not in delivery.body
    assert event["id"].startswith("erp-") and event["id"].endswith("-000001")
    sent_at = dt.datetime.fromisoformat(event.pop("time"))
    assert sent_at.utcoffset() == dt.timedelta(0)
    assert event == {
        "specversion": "1.0",
        "id": event["id"],
        "source": "erp/erp",
        "type": "order.released",
        "subject": "SO-1001",
        "correlationid": "SO-1001",
        "datacontenttype": "application/json",
        "data": order_released(),
    }


def test_repeat_sends_each_webhook_that_many_times_unchanged(start_simulator, hub):
    erp = start_simulator("erp")
    erp.control("config", {"repeat": 3})

    erp.control("orders", {"orders": [order_released()]})
    wait_until(lambda: len(hub.deliveries) == 3, what="three deliveries")
    wait_until(lambda: erp.state()["pending"] == 0, what="the send queue to empty")

    assert len({d.body for d in hub.deliveries}) == 1
    assert len({d.headers["webhook-id"] for d in hub.deliveries}) == 1
    assert [d.status for d in hub.deliveries] == [202, 200, 200]
    state = erp.state()
    assert (state["sent"], state["sent_accepted"], state["sent_duplicate"]) == (
        {"order.released": 3},
        1,
        2,
    )


def test_sender_retries_through_503_and_loses_nothing(start_simulator, hub):
    hub.answer_next(503, 503, 503)
    erp = start_simulator("erp")

    erp.control("orders", {"orders": [order_released("SO-1"), order_released("SO-2")]})
    events = hub.wait_for_accepted(2)
    wait_until(lambda: erp.state()["pending"] == 0, what="the send queue to empty")

    assert [e["subject"] for e in events] == ["SO-1", "SO-2"]
    assert [d.status for d in hub.deliveries] == [503, 503, 503, 202, 202]
    assert len({d.body for d in hub.deliveries[:4]}) == 1
    state = erp.state()
    assert (state["retries"], state["attempts"], state["sent_accepted"]) == (3, 5, 2)


def test_sender_retries_when_the_connection_drops(start_simulator, hub):
    hub.answer_next(DROP, DROP)
    erp = start_simulator("erp")

    erp.control("orders", {"orders": [order_released()]})
    [event] = hub.wait_for_accepted(1)

    assert [d.status for d in hub.deliveries] == [None, None, 202]
    assert event["data"] == order_released()


def test_sender_waits_as_long_as_retry_after_says(start_simulator, hub):
    hub.answer_next((429, {"Retry-After": "1"}))
    erp = start_simulator("erp")

    erp.control("orders", {"orders": [order_released()]})
    hub.wait_for_accepted(1)

    first, second = hub.deliveries
    assert (first.status, second.status) == (429, 202)
    assert second.at - first.at >= 1.0


def test_refused_webhook_is_recorded_and_not_retried(start_simulator, hub):
    hub.answer_next(422)
    erp = start_simulator("erp")

    erp.control("orders", {"orders": [order_released()]})
    wait_until(lambda: erp.state()["refused"], what="the refusal to be recorded")
    time.sleep(0.3)

    state = erp.state()
    assert len(hub.deliveries) == 1
    assert state["refused"] == [
        {
            "id": hub.deliveries[0].headers["webhook-id"],
            "type": "order.released",
            "subject": "SO-1001",
            "status": 422,
        }
    ]
    assert (state["retries"], state["pending"], state["sent"]) == (0, 0, {})


def test_config_refuses_unknown_keys_and_wrong_types(start_simulator):
    wms = start_simulator("wms")

    unknown = wms.control("config", {"explode": True})
    wrong = wms.control("config", {"fail_next": True})

    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "unknown config key(s): explode"},
    )
    assert (wrong.status_code, wrong.json()) == (
        400,
        {"error": "fail_next must be a non-negative int"},
    )


def test_config_answers_the_whole_configuration(start_simulator):
    wms = start_simulator("wms")

    response = wms.control("config", {"latency_ms": 5, "reorder": True})

    assert response.json() == {
        "latency_ms": 5,
        "fail_next": 0,
        "fail_status": 500,
        "down": False,
        "repeat": 1,
        "reorder": True,
    }


def test_reset_forgets_received_events_counters_and_config(start_simulator):
    wms = start_simulator("wms")
    wms.control("config", {"fail_next": 1, "latency_ms": 1})
    wms.deliver("fulfilment.requested", fulfilment_requested())
    wms.deliver("fulfilment.requested", fulfilment_requested(), key="k")

    response = wms.control("reset")

    state = wms.state()
    assert response.status_code == 200
    assert response.json()["reset"] is True
    assert (state["received"], state["failures_injected"], state["pending"]) == (
        {},
        0,
        0,
    )
    assert state["config"]["latency_ms"] == 0
    assert (
        wms.deliver("fulfilment.requested", fulfilment_requested(), key="k").status_code
        == 202
    )


def test_unknown_route_answers_404(start_simulator):
    wms = start_simulator("wms")

    response = requests.get(f"{wms.url}/nothing-here", timeout=5)

    assert response.status_code == 404


def test_sigterm_stops_the_process_with_status_0(start_simulator):
    tms = start_simulator("tms")

    status = tms.stop()

    assert status == 0


def test_sigterm_stops_promptly_even_while_the_sender_is_retrying(start_simulator, hub):
    hub.answer_next(*[503] * 100)
    erp = start_simulator("erp")
    erp.control("orders", {"orders": [order_released()]})
    wait_until(lambda: erp.state()["retries"] >= 2, what="two retries")

    started = time.monotonic()
    status = erp.stop()

    assert status == 0
    assert time.monotonic() - started < 3
