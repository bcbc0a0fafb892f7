"""Models the suite builds itself, once per test session, for any test that asks; and the
check that a test starting a process is in a module marked integration."""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.support.builders import fixtures as built
from tests.support.process_guard import (
    ProcessStarts,
    module_marked_integration,
    unmarked_process_test,
)

PROCESS_STARTS = ProcessStarts()
sys.addaudithook(PROCESS_STARTS.on_audit)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    # Module and session fixtures start their processes in the setup of the first test.
    PROCESS_STARTS.take()
    PROCESS_STARTS.watching = True
    try:
        return (yield)
    finally:
        PROCESS_STARTS.watching = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    PROCESS_STARTS.watching = True
    try:
        result = yield
    finally:
        PROCESS_STARTS.watching = False
    started = PROCESS_STARTS.take()
    if started and not module_marked_integration(getattr(item, "module", None)):
        pytest.fail(unmarked_process_test(item.nodeid, started), pytrace=False)
    return result


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
