"""Operator scopes are granted to staff applications only."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from oauth2_provider.models import Application

from api.scopes import ApplicationScopes

pytestmark = pytest.mark.django_db


def _application(*, staff: bool) -> tuple[Application, str]:
    owner = get_user_model().objects.create_user(
        username=f"owner-{staff}", is_staff=staff
    )
    secret = "s3cret-value-for-tests"
    application = Application.objects.create(
        name="tooling",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    return application, secret


def _token(application: Application, secret: str, scope: str):
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    return Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def test_a_client_not_owned_by_staff_cannot_get_the_replay_scope():
    application, secret = _application(staff=False)

    response = _token(application, secret, "integrations:replay")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_staff_client_gets_the_replay_scope():
    application, secret = _application(staff=True)

    response = _token(application, secret, "integrations:replay")

    assert response.status_code == 200
    assert response.json()["scope"] == "integrations:replay"


class _Request:
    def __init__(self, user):
        self.user = user


def test_a_customer_authorising_a_staff_app_does_not_get_operator_scopes():
    application, _ = _application(staff=True)
    customer = get_user_model().objects.create_user(username="alice")

    scopes = ApplicationScopes().get_available_scopes(
        application=application, request=_Request(customer)
    )

    assert "integrations:replay" not in scopes
    assert "orders:read" in scopes
