"""Gateway shutdown: SIGTERM drains then stops everything; SIGKILL leaves no worker behind."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from tests.supervision.harness import Gateway, gateway_running, is_gone
from tests.support.gateway_process import next_event

pytestmark = pytest.mark.integration


def _ipc_dir(gateway: Gateway) -> Path:
    (pid,) = gateway.worker_pids()[:1]
    command = psutil.Process(pid).cmdline()
    endpoint = command[command.index("--connect") + 1]
    return Path(endpoint.removeprefix("ipc://")).parent


def _loaded(gateway: Gateway) -> None:
    with gateway.events() as ws:
        assert gateway.load().status_code == 202
        next_event(ws, {"model.load.completed"}, timeout_s=30)


def test_sigkill_of_the_gateway_leaves_no_worker_behind(tmp_path: Path) -> None:
    # Two CPU workers (`cpu:1` is a second one, id cpu-1): neither may outlive the gateway.
    with gateway_running(tmp_path, LX_WORKER_DEVICES="cpu,cpu:1") as gateway:
        assert sorted(w["worker_id"] for w in gateway.workers()) == ["cpu", "cpu-1"]
        pids = gateway.worker_pids()
        assert len(pids) == 2
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(5)
        killed = time.monotonic()
        gateway.wait_for(lambda: all(is_gone(p) for p in pids), 5, "the workers to exit")
        assert time.monotonic() - killed < 3.0


def test_a_stopped_worker_dies_with_its_sigkilled_gateway(tmp_path: Path) -> None:
    # A stopped worker never runs its own check of the parent: the kernel's parent-death
    # signal (SIGKILL, which ends a stopped process too) is what ends it.
    with gateway_running(tmp_path) as gateway:
        (pid,) = gateway.worker_pids()
        os.kill(pid, signal.SIGSTOP)
        gateway.wait_for(
            lambda: psutil.Process(pid).status() == psutil.STATUS_STOPPED, 5, "stopped"
        )
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(5)
        killed = time.monotonic()
        gateway.wait_for(lambda: is_gone(pid), 5, "the stopped worker to be gone")
        assert time.monotonic() - killed < 2.0


def test_sigterm_drains_in_flight_work_then_stops_workers_and_removes_ipc_files(
    tmp_path: Path,
) -> None:
    with gateway_running(tmp_path) as gateway:
        _loaded(gateway)
        pids = gateway.worker_pids()
        ipc_dir = _ipc_dir(gateway)
        assert ipc_dir.is_dir()
        with ThreadPoolExecutor(1) as threads:
            running = threads.submit(gateway.transcribe, "long_story.wav")
            gateway.wait_for(lambda: gateway.worker("cpu")["in_flight"] == 1, 10, "in flight")
            gateway.process.send_signal(signal.SIGTERM)
            answer = running.result(timeout=30)
        assert answer.status_code == 200, answer.text
        gateway.process.wait(15)
        assert all(is_gone(p) for p in pids)
        assert not ipc_dir.exists()


def test_work_still_running_at_the_shutdown_timeout_gets_503(tmp_path: Path) -> None:
    with gateway_running(tmp_path, LX_SHUTDOWN_TIMEOUT_MS="300") as gateway:
        _loaded(gateway)
        with ThreadPoolExecutor(1) as threads:
            running = threads.submit(gateway.transcribe, "long_story.wav")
            gateway.wait_for(lambda: gateway.worker("cpu")["in_flight"] == 1, 10, "in flight")
            gateway.process.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            answer = running.result(timeout=30)
            took = time.monotonic() - stopped
        assert answer.status_code == 503, answer.text
        assert "shutting down" in answer.json()["error"]["details"]["cause"]
        assert took < 2.0  # the inference alone needs several seconds
        gateway.process.wait(15)
