"""Models the suite builds itself, once per test session, for any test that asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builders import fixtures as built


@pytest.fixture(scope="session")
def nllb_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.nllb_copy_model(tmp_path_factory)


@pytest.fixture(scope="session")
def nllb_copy_model_int8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.nllb_copy_model_int8(tmp_path_factory)


@pytest.fixture(scope="session")
def m2m_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.m2m_copy_model(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_whisper_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.tiny_whisper_model(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_whisper_multilingual_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.tiny_whisper_multilingual_model(tmp_path_factory)
