"""A fake hub on loopback serving the suite's tiny Whisper, and a process that is online."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants

from tests.support.builders import fixtures as built
from tests.support.fake_hub import FakeHub, running_hub


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.tiny_whisper_model(tmp_path_factory)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with running_hub() as fake:
        yield fake


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Online whatever the shell says: huggingface_hub read HF_HUB_OFFLINE when imported."""
    monkeypatch.delenv("LX_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
