"""Remote workers over tcp://127.0.0.1 with CURVE: admitted by key, re-admitted with their
models, refused with a wrong key; a memory cap passed by a load ends only that worker."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.workers.curve_keys import generate
from protocol.wire.exit_codes import EXIT_MEMORY_LIMIT
from tests.supervision.harness import (
    MODEL,
    Gateway,
    collect,
    gateway_running,
    start_worker,
    stop_worker,
)
from tests.support.builders.fixtures import TINY_WHISPER_PHRASE, tiny_whisper_multilingual_model
from tests.support.gateway_process import free_port, next_event
from tests.support.hub_cache import place_in_hub_cache

pytestmark = pytest.mark.integration

SMALL_MODEL = "openai/whisper-tiny"  # the suite's tiny Whisper, from the hub cache


@dataclass
class Remote:
    gateway: Gateway
    endpoint: str
    keys: Path
    hub_cache: Path
    workers: list[subprocess.Popen[bytes]]

    def start(
        self, name: str, *extra: str, key: str = "", server_key: str = "gateway.key"
    ) -> subprocess.Popen[bytes]:
        """A worker on "another host": its own keys, the hub cache as it would have it."""
        secret = self.keys / (key or f"allowed/{name}.key_secret")
        args = ["--connect", self.endpoint, "--id", name]
        args += ["--server-key", str(self.keys / server_key), "--secret-key-file", str(secret)]
        log_path = self.keys / f"{name}-{len(self.workers)}.log"
        process = start_worker(*args, *extra, log_path=log_path, HF_HUB_CACHE=str(self.hub_cache))
        self.workers.append(process)
        return process


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    keys = tmp_path_factory.mktemp("keys")
    generate(keys, "gateway")
    for name in ("remote-a", "remote-b"):
        generate(keys / "allowed", name)
    generate(keys / "unlisted", "intruder")
    generate(keys / "unlisted", "wrong-server")  # used as if it were the gateway's key
    hub_cache = tmp_path_factory.mktemp("hub")
    place_in_hub_cache(
        hub_cache, "Systran/faster-whisper-tiny", tiny_whisper_multilingual_model(tmp_path_factory)
    )
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    env = {
        "LX_WORKER_DEVICES": "",
        "LX_WORKER_LISTEN": endpoint,
        "LX_CURVE_SERVER_SECRET_KEY_FILE": str(keys / "gateway.key_secret"),
        "LX_CURVE_ALLOWED_KEYS_DIR": str(keys / "allowed"),
        "HF_HUB_CACHE": str(hub_cache),
    }
    with gateway_running(tmp_path_factory.mktemp("gw"), ready=lambda g: True, **env) as gw:
        setup = Remote(gw, endpoint, keys, hub_cache, [])
        try:
            yield setup
        finally:
            for process in setup.workers:
                stop_worker(process)


def test_wrong_keys_get_nothing_through_and_are_logged(remote: Remote) -> None:
    intruder = remote.start("intruder", key="unlisted/intruder.key_secret")
    # A listed worker key, but the gateway's public key is wrong: the handshake fails.
    wrong_server = remote.start("remote-a", server_key="unlisted/wrong-server.key")
    gateway = remote.gateway
    gateway.wait_for(
        lambda: (
            "refused a worker from 127.0.0.1" in gateway.log()
            and "failed its CURVE handshake" in gateway.log()
        ),
        10,
        "refusals in the gateway log",
    )
    time.sleep(0.5)  # a heartbeat or two would have been admitted by now
    with gateway.client() as client:
        assert client.get("/api/workers").json()["workers"] == []
    assert intruder.poll() is None and wrong_server.poll() is None  # they just get nowhere
    stop_worker(intruder)
    stop_worker(wrong_server)


def test_a_listed_remote_worker_is_admitted_and_serves(remote: Remote) -> None:
    gateway = remote.gateway
    process = remote.start("remote-a")
    gateway.wait_for(lambda: bool(gateway.workers()), 15, "the remote worker")
    gateway.wait_state("remote-a", {"ready"})
    worker = gateway.worker("remote-a")
    assert worker["remote"] is True and worker["pid"] == process.pid and worker["host"]
    with gateway.events() as ws:
        answer = gateway.load()
        assert answer.status_code == 202 and answer.json()["worker_id"] == "remote-a"
        next_event(ws, {"model.load.completed"}, timeout_s=30)
    served = gateway.transcribe()
    assert served.status_code == 200, served.text
    assert "kitchen" in served.json()["text"].lower()


def test_a_silent_remote_worker_is_lost_then_readmitted_with_its_models(remote: Remote) -> None:
    gateway = remote.gateway
    (process,) = [p for p in remote.workers if p.poll() is None]
    with gateway.events() as ws:
        os.kill(process.pid, signal.SIGSTOP)
        lost = next_event(ws, {"worker.lost"}, timeout_s=5)
        assert lost["data"]["exit"]["reason"] == "hang"
        assert gateway.model_status() == "not_loaded"
        os.kill(process.pid, signal.SIGCONT)
        events = collect(ws, lambda e: e["t"] == "worker.ready", timeout_s=10)
    assert "model.load.started" not in [e["t"] for e in events]
    # Its model came back with it, without a reload.
    assert gateway.model_status() == "loaded"
    assert gateway.worker("remote-a")["models"] == [MODEL]
    assert gateway.transcribe().status_code == 200


def test_a_load_past_a_workers_memory_cap_ends_only_that_worker(remote: Remote) -> None:
    gateway = remote.gateway
    # remote-a holds a model, so placement (fewest models first) sends the next load to
    # remote-b whatever ran before this test.
    if not gateway.worker("remote-a")["models"]:
        assert gateway.load(MODEL).status_code == 202
        gateway.wait_for(lambda: gateway.model_status() == "loaded", 30, "the model on remote-a")
    survivor = gateway.worker("remote-a")
    # The cap sits just above what this worker holds idle once settled (measured here, it
    # differs between machines). 5 MB, not more: under load a CI machine saw the tiny
    # Whisper's load finish inside +20 MB and pass the cap only afterwards.
    idle_mb = _idle_rss_mb(remote)
    capped = remote.start("remote-b", "--memory-limit-mb", str(round(idle_mb + 5)))
    gateway.wait_for(lambda: len(gateway.workers()) == 2, 15, "the capped worker")
    gateway.wait_state("remote-b", {"ready"}, timeout_s=15)
    with gateway.events() as ws:
        answer = gateway.load(SMALL_MODEL)
        assert answer.status_code == 202, answer.text
        assert answer.json()["worker_id"] == "remote-b"  # it holds no model yet
        events = collect(ws, lambda e: e["t"] == "model.load.failed", timeout_s=30)
    failed = events[-1]["data"]
    assert failed["model_id"] == SMALL_MODEL
    assert failed["error_code"] == "INSUFFICIENT_MEMORY"
    (lost,) = [e for e in events if e["t"] == "worker.lost"]
    assert lost["data"]["worker_id"] == "remote-b"
    assert lost["data"]["exit"]["reason"] == "oom"
    assert capped.wait(5) == EXIT_MEMORY_LIMIT
    # The other worker never noticed.
    after = gateway.worker("remote-a")
    assert after["state"] in ("ready", "busy") and after["pid"] == survivor["pid"]
    served = gateway.transcribe()
    assert served.status_code == 200
    assert served.json()["text"] != TINY_WHISPER_PHRASE


def _idle_rss_mb(remote: Remote) -> float:
    gateway = remote.gateway
    probe = remote.start("remote-b")
    gateway.wait_for(lambda: len(gateway.workers()) == 2, 15, "the probe")
    gateway.wait_state("remote-b", {"ready"}, timeout_s=15)
    # A fresh worker still grows for a moment (imports, the first heartbeats): the figure
    # counts once it has held still over three heartbeats (one a second).
    readings: list[float] = []

    def settled() -> bool:
        time.sleep(0.25)
        readings.append(_rss_mb(gateway, "remote-b") or 0.0)
        recent = readings[-12:]
        return len(recent) == 12 and max(recent) - min(recent) < 1.0

    gateway.wait_for(settled, 20, "idle memory settled")
    idle_mb = readings[-1]
    stop_worker(probe)
    gateway.wait_for(lambda: gateway.state_of("remote-b") != "ready", 15, "the probe gone")
    return idle_mb


def _rss_mb(gateway: Gateway, worker_id: str) -> float | None:
    memory = gateway.worker(worker_id).get("memory")
    return float(memory["process_rss_mb"]) if memory else None
