"""Connection and code-mapping admin: secrets, rotation, history, replay by cause."""

from __future__ import annotations

import logging
import re

import pytest
from django.urls import reverse

from integrations.models import CodeMapping, Connection, InboundMessage
from tests.admin import factories
from tests.admin.test_admin import _connection_form

pytestmark = pytest.mark.django_db

INBOUND = "whsec_inbound_Kd93"
OUTBOUND = "client_secret_Lm27"
PREVIOUS = "whsec_previous_Qa55"


def _change_url(model: type, pk: int) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])


def _changelist(model: type) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")


def _action(client, model: type, action: str, rows: list):
    return client.post(
        _changelist(model),
        {"action": action, "_selected_action": [row.pk for row in rows]},
        follow=True,
    )


@pytest.fixture
def secretive() -> Connection:
    return factories.ConnectionFactory(
        code="partner-x",
        inbound_secret=INBOUND,
        previous_inbound_secret=PREVIOUS,
        outbound_secret=OUTBOUND,
    )


def test_change_page_and_list_render_no_secret(admin_client, secretive):
    page = admin_client.get(_change_url(Connection, secretive.pk))
    listing = admin_client.get(_changelist(Connection))

    for response in (page, listing):
        assert response.status_code == 200
        for secret in (INBOUND, OUTBOUND, PREVIOUS):
            assert secret not in response.text
    assert '<input type="password" name="outbound_secret"' in page.text


def test_saving_and_rotating_log_no_secret(admin_client, secretive, caplog):
    with caplog.at_level(logging.DEBUG):
        admin_client.post(
            _change_url(Connection, secretive.pk),
            _connection_form(secretive, outbound_secret="typed_secret_Zx81"),
        )
        response = _action(
            admin_client, Connection, "rotate_inbound_secret", [secretive]
        )

    secretive.refresh_from_db()
    assert secretive.outbound_secret == "typed_secret_Zx81"
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for secret in (INBOUND, OUTBOUND, PREVIOUS, "typed_secret_Zx81"):
        assert secret not in logged
    assert secretive.inbound_secret not in logged
    assert response.status_code == 200


def test_rotate_action_shows_the_new_secret_once_and_keeps_the_old_as_previous(
    admin_client, secretive
):
    response = _action(admin_client, Connection, "rotate_inbound_secret", [secretive])

    secretive.refresh_from_db()
    shown = re.findall(r"<code>(whsec_[^<]+)</code>", response.text)
    assert shown == [secretive.inbound_secret]
    assert secretive.previous_inbound_secret == INBOUND
    assert secretive.inbound_secret_rotated_at is not None
    assert "no-store" in response["Cache-Control"].split(", ")

    page = admin_client.get(_change_url(Connection, secretive.pk))
    assert secretive.inbound_secret not in page.text
    assert INBOUND not in page.text


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        (
            {"outbound_auth": "oauth2", "oauth_client_id": "hub"},
            "oauth_token_url",
            "OAuth2 client credentials need this.",
        ),
        (
            {"api_key_header": "X Bad Header"},
            "api_key_header",
            "A header name has letters, digits and hyphens only.",
        ),
        (
            {"queue": "inbound"},
            "queue",
            "inbound carries the hub&#x27;s own tasks; choose an outbox queue "
            "such as outbox.&lt;name&gt;.",
        ),
        (
            {"queue": "Outbox Slow"},
            "queue",
            "A queue name has lower-case letters, digits, dots, hyphens and "
            "underscores, and starts with a letter or digit.",
        ),
        (
            {"retry_base_seconds": "600", "retry_max_seconds": "60"},
            "retry_max_seconds",
            "The longest wait cannot be below the first.",
        ),
        (
            {"timeout_seconds": "0"},
            "timeout_seconds",
            "Give a timeout between 0.1 and 60 seconds.",
        ),
        (
            {"timeout_seconds": "-3"},
            "timeout_seconds",
            "Give a timeout between 0.1 and 60 seconds.",
        ),
    ],
)
def test_connection_form_refuses_unusable_settings(
    admin_client, secretive, changes, field, error
):
    form = _connection_form(secretive, base_url="https://partner.test", **changes)

    response = admin_client.post(_change_url(Connection, secretive.pk), form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [
        error.replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">")
    ]


def test_connection_form_saves_a_custom_queue_and_oauth2_settings(
    admin_client, secretive
):
    form = _connection_form(
        secretive,
        base_url="https://partner.test",
        outbound_auth="oauth2",
        oauth_token_url="https://partner.test/o/token/",
        oauth_client_id="hub",
        queue="outbox.slow",
    )

    response = admin_client.post(_change_url(Connection, secretive.pk), form)

    secretive.refresh_from_db()
    assert response.status_code == 302
    assert (secretive.outbound_auth, secretive.queue_name) == ("oauth2", "outbox.slow")
    assert secretive.outbound_secret == OUTBOUND


def test_mapping_edit_in_admin_is_kept_with_its_author(admin_client, admin_user):
    mapping = factories.CodeMappingFactory(external_code="DLV2", canonical_value="x")

    admin_client.post(
        _change_url(CodeMapping, mapping.pk),
        {
            "source": mapping.source,
            "category": mapping.category,
            "external_code": "DLV2",
            "canonical_value": "delivered",
            "description": "",
            "_save": "Save",
        },
    )
    history = admin_client.get(
        reverse("admin:integrations_codemapping_history", args=[mapping.pk])
    )

    latest = mapping.history.latest()
    assert (latest.canonical_value, latest.history_user) == ("delivered", admin_user)
    assert history.status_code == 200
    assert "delivered" in history.text


def test_replay_action_replays_what_each_mapping_blocked(admin_client):
    crx = factories.ConnectionFactory(code="carrier-crx")
    zz = factories.ConnectionFactory(code="carrier-zz")
    key = "mapping:carrier-crx:shipment_status:DLV2"
    blocked = [
        factories.InboundMessageFactory(
            connection=crx, state="needs_attention", blocked_by=key
        )
        for _ in range(2)
    ]
    elsewhere = factories.InboundMessageFactory(
        connection=zz,
        state="needs_attention",
        blocked_by="mapping:carrier-zz:shipment_status:DLV2",
    )
    mapping = factories.CodeMappingFactory(
        source="carrier-crx", external_code="dlv2", canonical_value="delivered"
    )

    response = _action(admin_client, CodeMapping, "replay_blocked", [mapping])

    states = dict(InboundMessage.objects.values_list("pk", "state"))
    assert [states[m.pk] for m in blocked] == ["received", "received"]
    assert states[elsewhere.pk] == "needs_attention"
    assert [str(m) for m in response.context["messages"]] == [
        "Replayed 2 message(s) blocked by 1 mapping(s)."
    ]


def test_catch_all_mapping_replays_what_it_blocked_on_every_source(admin_client):
    for code in ("carrier-crx", "carrier-zz"):
        factories.InboundMessageFactory(
            connection=factories.ConnectionFactory(code=code),
            state="needs_attention",
            blocked_by=f"mapping:{code}:shipment_status:DLV2",
        )
    mapping = factories.CodeMappingFactory(source="*", external_code="DLV2")

    response = _action(admin_client, CodeMapping, "replay_blocked", [mapping])

    assert [str(m) for m in response.context["messages"]] == [
        "Replayed 2 message(s) blocked by 1 mapping(s)."
    ]


def test_changing_the_queue_warns_that_workers_need_a_restart(admin_client, secretive):
    form = _connection_form(secretive, queue="outbox.bulk")

    response = admin_client.post(
        _change_url(Connection, secretive.pk), form, follow=True
    )

    assert [str(m) for m in response.context["messages"]][0] == (
        "Outbound messages of partner-x now travel on outbox.bulk. Workers "
        "consume it from their next start: restart them with the layout "
        "`manage.py worker_queues --layout` prints (one worker per line)."
    )


def test_saving_without_touching_the_queue_gives_no_restart_warning(
    admin_client, secretive
):
    form = _connection_form(secretive, name="Renamed")

    response = admin_client.post(
        _change_url(Connection, secretive.pk), form, follow=True
    )

    assert not any("worker_queues" in str(m) for m in response.context["messages"])


def test_typing_a_new_inbound_secret_keeps_the_old_one_for_the_overlap(
    admin_client, secretive
):
    form = _connection_form(
        secretive, base_url="https://partner.test", inbound_secret="whsec_typed_Zz01"
    )

    response = admin_client.post(_change_url(Connection, secretive.pk), form)

    secretive.refresh_from_db()
    assert response.status_code == 302
    assert secretive.inbound_secret == "whsec_typed_Zz01"
    assert secretive.previous_inbound_secret == INBOUND
    assert secretive.inbound_secret_rotated_at is not None
