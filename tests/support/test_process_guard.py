"""The check that keeps process-starting tests out of `make unit`, on plain objects."""

from __future__ import annotations

import sys
import types

import pytest

from tests.conftest import PROCESS_STARTS
from tests.support.process_guard import ProcessStarts, module_marked_integration


def test_process_starts_are_recorded_only_while_watching() -> None:
    starts = ProcessStarts()
    starts.on_audit("subprocess.Popen", ("python", ["python", "-m", "worker"], None, None))
    starts.watching = True
    starts.on_audit("open", ("/tmp/x", "r", 0))
    starts.on_audit("subprocess.Popen", ("python", ["python", "-m", "worker"], None, None))
    starts.on_audit("os.fork", ())
    assert starts.take() == ["subprocess.Popen ['python', '-m', 'worker']", "os.fork ()"]
    assert starts.take() == []


def test_the_mark_must_be_the_modules_own_integration_mark() -> None:
    def module(**attributes: object) -> types.ModuleType:
        found = types.ModuleType("m")
        for name, value in attributes.items():
            setattr(found, name, value)
        return found

    assert module_marked_integration(module(pytestmark=pytest.mark.integration))
    marks = [pytest.mark.usefixtures("online"), pytest.mark.integration]
    assert module_marked_integration(module(pytestmark=marks))
    assert not module_marked_integration(module(pytestmark=pytest.mark.usefixtures("online")))
    assert not module_marked_integration(module())
    assert not module_marked_integration(None)


def test_the_root_conftest_watches_this_test() -> None:
    # The audit event alone (no process): seen, then cleared so this test is not failed.
    sys.audit("subprocess.Popen", "python", ["python", "-c", "pass"], None, None)
    assert PROCESS_STARTS.take() == ["subprocess.Popen ['python', '-c', 'pass']"]
