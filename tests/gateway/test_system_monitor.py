"""System figures sampled on a timer: NVML opened once, and a machine without it asked once."""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path

import pytest

from gateway.hardware.nvml import GpuMemoryReader
from gateway.hardware.system_resources import SystemMonitor
from protocol.api.lifecycle import SystemResources

MB = 1024 * 1024


class _NVMLError(Exception):
    pass


def _fake_nvml(monkeypatch: pytest.MonkeyPatch, used: list[int] | None) -> list[str]:
    """pynvml as it behaves with these GPUs (used bytes each), or with no library (None)."""
    calls: list[str] = []
    nvml = types.ModuleType("pynvml")

    def init() -> None:
        calls.append("init")
        if used is None:
            raise _NVMLError("NVML Shared Library Not Found")

    def memory_info(index: int) -> types.SimpleNamespace:
        calls.append("read")
        assert used is not None
        return types.SimpleNamespace(total=80 * 1024 * MB, used=used[index])

    nvml.nvmlInit = init  # type: ignore[attr-defined]
    nvml.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCount = lambda: len(used or [])  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetMemoryInfo = memory_info  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    return calls


def test_a_machine_without_nvml_is_asked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_nvml(monkeypatch, None)
    reader = GpuMemoryReader()
    assert [reader.used_mb() for _ in range(3)] == [None, None, None]
    assert reader.absent
    assert calls == ["init"]


def test_nvml_is_opened_once_and_read_on_every_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    used = [1024 * MB, 512 * MB]
    calls = _fake_nvml(monkeypatch, used)
    reader = GpuMemoryReader()
    assert reader.used_mb() == 1536.0
    used[1] = 2048 * MB
    assert reader.used_mb() == 3072.0
    reader.close()
    assert calls == ["init", "read", "read", "read", "read", "shutdown"]


def test_each_sample_takes_new_figures(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    used = [256 * MB]
    _fake_nvml(monkeypatch, used)
    (tmp_path / "model.bin").write_bytes(b"\0" * (2 * MB))
    monitor = SystemMonitor([tmp_path])
    assert monitor.samples == 0

    figures = asyncio.run(monitor.sample())

    assert monitor.samples == 1
    assert monitor.figures is figures
    assert figures.gpu_memory_usage_mb == 256.0
    assert figures.disk_cache_usage_mb == 2.0
    assert figures.memory_usage_mb > 0
    assert 0 <= figures.cpu_usage_percent <= 100


class _CountingMonitor(SystemMonitor):
    """Tells when the timer has sampled three times."""

    def __init__(self, cache_dirs: list[Path]) -> None:
        super().__init__(cache_dirs, interval_s=0.01)
        self.three = asyncio.Event()

    async def sample(self) -> SystemResources:
        figures = await super().sample()
        if self.samples >= 3:
            self.three.set()
        return figures


def test_the_timer_samples_until_stopped(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int]:
        monitor = _CountingMonitor([tmp_path])
        monitor.start()
        await asyncio.wait_for(monitor.three.wait(), 10)
        await monitor.stop()
        stopped_at = monitor.samples
        await asyncio.sleep(0.05)  # several intervals: none samples after the stop
        return stopped_at, monitor.samples

    stopped_at, later = asyncio.run(scenario())
    assert stopped_at >= 3
    assert later == stopped_at
