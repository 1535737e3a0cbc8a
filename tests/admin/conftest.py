"""Fixtures for the admin tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage

from shipments.models import Document


@pytest.fixture(autouse=True)
def private_storage_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write test documents under the test's own folder, not under var/."""
    field = Document._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path))
