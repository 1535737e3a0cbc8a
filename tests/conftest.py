"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from integrations import signing

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    """Return the shared corpus folder, failing clearly where it is missing."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is expected at {CORPUS}")
    return CORPUS


@pytest.fixture
def seeded(db):
    """Load the demo's accounts, master data, connections and code mappings."""
    from operations.demo import demo_seed

    demo_seed()


@pytest.fixture
def post_signed():
    """Return a function that POSTs a signed webhook to an inbound connection."""
    client = Client()

    def post(connection, body, *, message_id=None, secret=None, timestamp=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        message_id = message_id or f"msg-{uuid.uuid4()}"
        headers = signing.signed_headers(
            secret or connection.inbound_secret,
            message_id,
            raw,
            now=timestamp or time.time(),
        )
        return client.post(
            f"/integrations/inbound/{connection.code}/",
            data=raw,
            content_type="application/json",
            headers=headers,
        )

    return post
