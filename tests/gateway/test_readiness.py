"""Readiness: a worker that can serve the default model's device is ready (ops/readiness.py)."""

from __future__ import annotations

from gateway.ops.readiness import readiness
from protocol.api.lifecycle import WorkerStateName, WorkerSummary

MODEL = "openai/whisper-tiny.en"


def _worker(device: str, state: WorkerStateName, worker_id: str | None = None) -> WorkerSummary:
    return WorkerSummary(worker_id=worker_id or device, device=device, state=state)


def test_no_worker_is_not_ready() -> None:
    answer = readiness(MODEL, "auto", False, [])
    assert not answer.ready
    assert "No worker" in answer.reason


def test_a_ready_or_busy_cpu_worker_serves_auto() -> None:
    assert readiness(MODEL, "auto", False, [_worker("cpu", "ready")]).ready
    assert readiness(MODEL, "auto", False, [_worker("cpu", "busy")]).ready


def test_workers_that_take_no_work_do_not_count() -> None:
    states: list[WorkerStateName] = ["starting", "draining", "restarting", "hung", "failed", "lost"]
    for state in states:
        answer = readiness(MODEL, "cpu", False, [_worker("cpu", state)])
        assert not answer.ready, state
        assert state in answer.reason


def test_a_worker_on_another_device_does_not_serve() -> None:
    answer = readiness(MODEL, "cuda", False, [_worker("cpu", "ready")])
    assert not answer.ready
    assert "LX_DEVICE=cuda" in answer.reason
    assert readiness(MODEL, "cuda", False, [_worker("cuda:1", "ready")]).ready
    assert not readiness(MODEL, "cuda:0", False, [_worker("cuda:1", "ready")]).ready


def test_auto_follows_placement() -> None:
    gpu_only = [_worker("cuda:0", "ready")]
    # A model the catalog runs on the CPU is placed there under auto: a GPU alone is not enough.
    assert not readiness(MODEL, "auto", False, gpu_only).ready
    assert readiness("openai/whisper-large-v3", "auto", True, gpu_only).ready
    mixed = [_worker("cuda:0", "failed"), _worker("cpu", "ready")]
    assert readiness("openai/whisper-large-v3", "auto", True, mixed).ready
