"""Copy translation models for the worker tests, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import fixtures as built


@pytest.fixture(scope="session")
def nllb_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.nllb_copy_model(tmp_path_factory)


@pytest.fixture(scope="session")
def nllb_copy_model_int8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.nllb_copy_model_int8(tmp_path_factory)


@pytest.fixture(scope="session")
def m2m_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.m2m_copy_model(tmp_path_factory)
