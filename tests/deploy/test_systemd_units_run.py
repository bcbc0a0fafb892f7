"""The systemd units run: the gateway unit with exactly the environment it and its env file
give (Environment= first, the EnvironmentFile= over it) comes up serving, its state where
the unit keeps it; the worker unit, with the example's empty LX_WORKER_MEMORY_LIMIT_MB,
connects over CURVE and serves."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest

from gateway.workers.curve_keys import generate
from tests.deploy.dockerfiles import REPO
from tests.deploy.launch import (
    BASE_ENV,
    OFFLINE,
    PathMap,
    free_tcp_endpoint,
    started,
    wait_worker_ready,
)
from tests.deploy.processes import INSTALL_ROOT, UNITS, Process, unit_process
from tests.deploy.systemd_unit import parse_unit
from tests.support.gateway_process import GatewayProcess, free_port

pytestmark = pytest.mark.integration

GATEWAY_UNIT, WORKER_UNIT = UNITS


def _systemd_paths(process: Process, root: Path) -> PathMap:
    paths = PathMap()
    paths.add(f"{INSTALL_ROOT}/.venv/bin/python", sys.executable, make=False)
    paths.add(INSTALL_ROOT, REPO, make=False)
    for mount in process.mounts:
        if mount.kind != "install":
            paths.add(mount.path, root / mount.path.lstrip("/"))
    return paths


def _systemd_env(paths: PathMap, unit_path: Path) -> dict[str, str]:
    """What systemd itself gives a service with User= and the *Directory= settings."""
    unit = parse_unit(unit_path)
    env = {**BASE_ENV, "HOME": "/nonexistent", "USER": "loquilex", "LOGNAME": "loquilex"}
    for key, root in (("StateDirectory", "/var/lib"), ("CacheDirectory", "/var/cache")):
        names = unit.words(key)
        if names:
            env[key.upper().replace("DIRECTORY", "_DIRECTORY")] = paths.rewrite(
                f"{root}/{names[0]}"
            )
    return env


def test_the_gateway_unit_with_its_env_file_comes_up_and_keeps_state_in_its_folder(
    tmp_path: Path,
) -> None:
    process = unit_process(GATEWAY_UNIT)
    paths = _systemd_paths(process, tmp_path)
    env = paths.rewrite_all(process.env)
    assert env["LX_HOST"] == "127.0.0.1", "the example env file listens on loopback only"
    port = free_port()
    env["LX_PORT"] = str(port)
    cwd = paths.rewrite(parse_unit(GATEWAY_UNIT).value("WorkingDirectory") or "/")
    argv = [paths.rewrite(a) for a in process.argv]
    with started(argv, {**_systemd_env(paths, GATEWAY_UNIT), **env, **OFFLINE}, cwd) as proc:
        gateway = GatewayProcess(proc, port)
        gateway.wait_ready(timeout_s=90)
        with gateway.client() as client:
            health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        # The state folder is the unit's StateDirectory=, not one the env file chose.
        state = Path(env["LX_STATE_DIR"])
        assert state == tmp_path / "var/lib/loquilex-models"
        assert (state / "sessions.db").is_file()


def test_the_worker_unit_with_an_empty_memory_limit_connects_and_serves(tmp_path: Path) -> None:
    process = unit_process(WORKER_UNIT, instance="cpu")
    # What the example ships, and what used to end the unit (`--memory-limit-mb ""`).
    assert process.env["LX_WORKER_MEMORY_LIMIT_MB"] == ""
    paths = _systemd_paths(process, tmp_path)
    # The worker host's keys, and the gateway's, as the unit's install comment lays them out.
    curve = tmp_path / "etc/loquilex/curve"
    generate(curve, "worker")
    gateway_keys = tmp_path / "gateway-host"
    _, gateway_secret = generate(gateway_keys, "gateway")
    shutil.copy(gateway_keys / "gateway.key", curve / "gateway.key")
    (gateway_keys / "allowed").mkdir()
    shutil.copy(curve / "worker.key", gateway_keys / "allowed" / "this-host.key")

    endpoint, _ = free_tcp_endpoint()
    port = free_port()
    gateway_env = {
        **BASE_ENV,
        **OFFLINE,
        "LX_HOST": "127.0.0.1",
        "LX_PORT": str(port),
        "LX_STATE_DIR": str(tmp_path / "gateway-state"),
        "LX_WORKER_DEVICES": "",
        "LX_WORKER_LISTEN": endpoint,
        "LX_CURVE_SERVER_SECRET_KEY_FILE": str(gateway_secret),
        "LX_CURVE_ALLOWED_KEYS_DIR": str(gateway_keys / "allowed"),
    }
    env = paths.rewrite_all(process.env)
    assert env["GATEWAY_ENDPOINT"].startswith("tcp://")
    env["GATEWAY_ENDPOINT"] = endpoint
    argv = [paths.rewrite(a) for a in process.argv]
    with started([sys.executable, "-m", "gateway"], gateway_env) as gateway_proc:
        gateway = GatewayProcess(gateway_proc, port)
        with started(argv, {**_systemd_env(paths, WORKER_UNIT), **env, **OFFLINE}) as worker:
            wait_worker_ready(gateway, f"{socket.gethostname()}-cpu", worker)
            assert worker.poll() is None
            with gateway.client() as client:
                transcribed = client.post(
                    "/api/asr/transcribe",
                    params={"model_id": "openai/whisper-tiny.en"},
                    content=(REPO / "tests/fixtures/audio/kitchen_lights.wav").read_bytes(),
                    headers={"content-type": "audio/wav"},
                )
            assert transcribed.status_code == 200, transcribed.text
            assert "kitchen" in transcribed.json()["text"].lower()
