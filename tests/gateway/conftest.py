from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.app_client import LOOPBACK_URL


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The real app with no local worker: everything that needs no model."""
    app = create_app(Settings(devices=(), state_dir=tmp_path, worker_ready_timeout_s=0.2))
    with TestClient(app, base_url=LOOPBACK_URL) as test_client:
        yield test_client
