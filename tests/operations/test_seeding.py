"""Seeding again keeps what operators changed."""

from __future__ import annotations

import pytest

from integrations.models import Connection
from integrations.seeding import connections_seed
from operations.demo import demo_seed

pytestmark = pytest.mark.django_db


def test_seeding_again_keeps_a_rotated_secret_and_updates_the_rest(settings):
    connections_seed()
    Connection.objects.filter(code="carrier-crx").update(
        inbound_secret="rotated-Qx81", name="renamed"
    )
    Connection.objects.filter(code="erp").update(outbound_secret="rotated-Pz02")

    demo_seed()

    crx = Connection.objects.get(code="carrier-crx")
    assert crx.inbound_secret == "rotated-Qx81"
    assert crx.name == "Carrier CRX tracking webhook"
    assert Connection.objects.get(code="erp").outbound_secret == "rotated-Pz02"


def test_a_new_connection_gets_its_demo_secret():
    connections_seed(secret_prefix="demo")

    erp = Connection.objects.get(code="erp")
    assert erp.inbound_secret == "demo-erp-inbound-secret"
    assert erp.outbound_secret == "demo-erp-outbound-secret"
