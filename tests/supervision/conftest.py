from __future__ import annotations

import pytest

# These start real gateways and workers, like tests/integration.
_PROCESS_TESTS = (
    "test_liveness",
    "test_failing_fast",
    "test_crash_loop",
    "test_operator_controls",
    "test_remote_workers",
    "test_shutdown",
    "test_malformed_traffic",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(f"tests/supervision/{name}.py" in str(item.fspath) for name in _PROCESS_TESTS):
            item.add_marker(pytest.mark.integration)
