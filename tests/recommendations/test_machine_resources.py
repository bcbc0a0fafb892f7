"""Measuring this machine: cores, RAM, GPUs; container limits and a missing GPU library."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import psutil
import pytest

from gateway.hardware.machine_resources import gpu_total_memory_mb, measure_resources

MB = 1024 * 1024


def test_measures_this_machine(tmp_path: Path) -> None:
    res = measure_resources(cgroup_dir=tmp_path)  # no cgroup files: the machine's own figures

    assert res.cpu_cores >= 1
    assert res.cpu_cores <= (os.cpu_count() or 1)
    assert res.ram_mb == pytest.approx(psutil.virtual_memory().total / MB, abs=0.1)
    assert all(gpu > 0 for gpu in res.gpu_memory_mb)


def test_container_limits_cap_cores_and_ram(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("100000 100000\n")  # one CPU's worth of time
    (tmp_path / "memory.max").write_text(f"{1024 * MB}\n")

    res = measure_resources(cgroup_dir=tmp_path)

    assert (res.cpu_cores, res.ram_mb) == (1, 1024.0)


def test_unlimited_cgroup_leaves_the_machine_figures(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "memory.max").write_text("max\n")

    assert measure_resources(cgroup_dir=tmp_path) == measure_resources(cgroup_dir=tmp_path / "x")


class _NVMLError(Exception):
    pass


def _fake_nvml(monkeypatch: pytest.MonkeyPatch, totals: list[int] | None) -> list[str]:
    calls: list[str] = []
    nvml = types.ModuleType("pynvml")

    def init() -> None:
        calls.append("init")
        if totals is None:
            raise _NVMLError("NVML Shared Library Not Found")

    nvml.nvmlInit = init  # type: ignore[attr-defined]
    nvml.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCount = lambda: len(totals or [])  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetMemoryInfo = lambda i: types.SimpleNamespace(total=(totals or [])[i], used=0)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    return calls


def test_missing_nvml_library_is_no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_nvml(monkeypatch, None)
    assert gpu_total_memory_mb() == []
    assert calls == ["init"]


def test_each_gpu_reports_its_total_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_nvml(monkeypatch, [24 * 1024 * MB, 80 * 1024 * MB])
    assert gpu_total_memory_mb() == [24576.0, 81920.0]
    assert calls == ["init", "shutdown"]
