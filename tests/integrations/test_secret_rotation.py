"""Inbound secret rotation: the previous secret works only within the overlap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations import signing
from integrations.models import Connection
from integrations.rotation import connection_rotate_inbound_secret

pytestmark = pytest.mark.django_db

ROTATED = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
BODY = {"specversion": "1.0", "id": "x"}


@pytest.fixture
def carrier() -> Connection:
    return Connection.objects.create(
        code="carrier-zz",
        name="Carrier ZZ",
        kind="carrier",
        scac="ZZ",
        inbound_secret="old-secret-A1",
    )


@pytest.mark.parametrize(
    ("seconds_after", "accepted"),
    [
        (0, ["new", "old"]),
        (3600, ["new", "old"]),
        (3601, ["new"]),
    ],
)
def test_previous_secret_is_accepted_only_within_the_overlap(seconds_after, accepted):
    now = ROTATED + dt.timedelta(seconds=seconds_after)

    secrets = signing.accepted_secrets("new", "old", ROTATED, 3600, now=now)

    assert secrets == accepted


def test_no_previous_secret_without_a_rotation_time():
    assert signing.accepted_secrets("new", "old", None, 3600) == ["new"]


def test_an_empty_secret_is_never_accepted():
    assert signing.accepted_secrets("", "", None, 3600) == []


def test_rotation_moves_the_current_secret_to_previous(carrier):
    before = timezone.now()

    connection, secret = connection_rotate_inbound_secret(connection_id=carrier.pk)

    carrier.refresh_from_db()
    assert secret.startswith("whsec_") and len(secret) > 40
    assert carrier.inbound_secret == secret
    assert carrier.previous_inbound_secret == "old-secret-A1"
    assert carrier.inbound_secret_rotated_at >= before


def test_two_rotations_give_different_secrets(carrier):
    _, first = connection_rotate_inbound_secret(connection_id=carrier.pk)
    _, second = connection_rotate_inbound_secret(connection_id=carrier.pk)

    carrier.refresh_from_db()
    assert first != second
    assert carrier.previous_inbound_secret == first


def test_endpoint_accepts_old_and_new_secret_during_the_overlap(carrier, post_signed):
    _, new_secret = connection_rotate_inbound_secret(connection_id=carrier.pk)

    with_new = post_signed(carrier, {"n": 1}, message_id="m-new", secret=new_secret)
    with_old = post_signed(
        carrier, {"n": 2}, message_id="m-old", secret="old-secret-A1"
    )

    # Both are stored as new messages (202), not refused.
    assert (with_new.status_code, with_old.status_code) == (202, 202)


def test_endpoint_refuses_the_old_secret_after_the_overlap(carrier, post_signed):
    _, new_secret = connection_rotate_inbound_secret(connection_id=carrier.pk)
    Connection.objects.filter(pk=carrier.pk).update(
        inbound_secret_rotated_at=timezone.now() - dt.timedelta(seconds=7201),
        secret_overlap_seconds=7200,
    )

    with_old = post_signed(carrier, BODY, message_id="m-old", secret="old-secret-A1")
    with_new = post_signed(carrier, BODY, message_id="m-new", secret=new_secret)

    assert with_old.status_code == 401
    assert with_old.json()["detail"] == "no signature matches"
    assert with_new.status_code == 202


def test_connection_without_a_secret_refuses_an_empty_key_signature(post_signed):
    bare = Connection.objects.create(code="bare", name="Bare", kind="carrier")

    response = post_signed(bare, BODY, secret="")

    assert response.status_code == 401
