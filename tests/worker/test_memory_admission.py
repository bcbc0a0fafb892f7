"""Transcriptions admitted against the worker's memory cap (worker/memory_admission.py)."""

from __future__ import annotations

import pytest

from protocol.errors import ErrorCode, ServiceError
from worker.memory_admission import MemoryAdmission, need_mb


def test_what_fits_beside_the_rss_is_admitted_and_held_until_it_ends() -> None:
    admission = MemoryAdmission(500.0, measure=lambda: 300.0)
    with admission.admitted(150.0):
        with pytest.raises(ServiceError) as refused, admission.admitted(100.0):
            pass  # 300 + 150 held + 100 > 500
        assert refused.value.code == ErrorCode.INSUFFICIENT_MEMORY
        assert refused.value.details["required_mb"] == 100.0
        assert refused.value.details["available_mb"] == 50.0
        assert "500 MB (LX_WORKER_MEMORY_LIMIT_MB)" in refused.value.message
    with admission.admitted(190.0):  # the first one gave its share back
        pass


def test_without_a_cap_everything_is_admitted() -> None:
    admission = MemoryAdmission(0.0, measure=lambda: 10_000.0)
    with admission.admitted(1e9):
        assert not admission.enabled


def test_a_refused_request_reserves_nothing() -> None:
    admission = MemoryAdmission(400.0, measure=lambda: 300.0)
    with pytest.raises(ServiceError), admission.admitted(200.0):
        pass
    with admission.admitted(99.0):
        pass


def test_the_need_grows_with_the_window_not_the_file() -> None:
    assert need_mb(120) > need_mb(30) > 30
    assert need_mb(120) < 200
