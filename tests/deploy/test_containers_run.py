"""The compose services and the Kubernetes pods run, as their files say, on this machine
(no container engine here): each volume a folder, each Secret its files, the image's
environment and command from its Dockerfile. The CURVE keys come from the files' own
secret-making steps, the workers connect over tcp:// and serve, and the healthchecks and
probes the files define answer."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.allow_list import EXPECTED_FROM_SECURITY_WORK
from tests.deploy.dockerfiles import built_images
from tests.deploy.http_checks import compose_checks, kubernetes_checks
from tests.deploy.launch import (
    BASE_ENV,
    OFFLINE,
    PathMap,
    free_tcp_endpoint,
    run_check,
    started,
    wait_worker_ready,
)
from tests.deploy.processes import (
    KUSTOMIZATION,
    Process,
    compose_processes,
    generated_secrets,
    kubernetes_processes,
    load_compose,
    pod_templates,
)
from tests.support.gateway_process import GatewayProcess, free_port

pytestmark = pytest.mark.integration


def _on_loopback(env: dict[str, str], port: int, worker_endpoint: str) -> dict[str, str]:
    """The one change to a gateway's environment: where it listens."""
    assert env["LX_HOST"] == "0.0.0.0"  # in a container; here, loopback only
    moved = {**env, "LX_HOST": "127.0.0.1", "LX_PORT": str(port)}
    if "LX_WORKER_LISTEN" in env:
        moved["LX_WORKER_LISTEN"] = worker_endpoint
    return moved


def _connect_to(argv: list[str], endpoint: str) -> list[str]:
    return [f"--connect={endpoint}" if a.startswith("--connect=") else a for a in argv]


def _compose_paths(process: Process, root: Path, volumes: dict[str, str]) -> PathMap:
    """Each named volume one folder shared by the services that mount it; /tmp per service."""
    paths = PathMap()
    service = process.source.split(": ")[1]
    paths.add("/tmp", root / "containers" / service / "tmp")
    for target, volume in volumes.items():
        paths.add(target, root / "volumes" / volume)
    return paths


def _volumes_of(service: dict[str, Any]) -> dict[str, str]:
    return {v.split(":")[1]: v.split(":")[0] for v in service.get("volumes", [])}


def test_compose_secrets_gateway_and_worker_run_together(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the compose secrets step hands its files to uid 10001, which needs root")
    services = load_compose()["services"]
    processes = {p.source.split(": ")[1]: p for p in compose_processes()}
    paths = {
        name: _compose_paths(processes[name], tmp_path, _volumes_of(services[name]))
        for name in services
    }
    # The secrets service: its own script makes the keys and the token into the volumes.
    secrets = processes["secrets"]
    argv = [paths["secrets"].rewrite(a) for a in secrets.argv]
    with started(argv, BASE_ENV) as making:
        assert making.wait(60) == 0

    endpoint, _ = free_tcp_endpoint()
    port = free_port()
    gateway_env = paths["gateway"].rewrite_all(processes["gateway"].env)
    gateway_env = _on_loopback(gateway_env, port, endpoint)
    assert Path(gateway_env["LX_API_TOKEN_FILE"]).read_text().strip()
    worker = processes["worker"]
    worker_argv = _connect_to([paths["worker"].rewrite(a) for a in worker.argv], endpoint)
    worker_env = paths["worker"].rewrite_all(worker.env)
    gateway_argv = processes["gateway"].argv
    with started(gateway_argv, {**BASE_ENV, **gateway_env, **OFFLINE}) as gateway_proc:
        gateway = GatewayProcess(gateway_proc, port)
        with started(worker_argv, {**BASE_ENV, **worker_env, **OFFLINE}) as worker_proc:
            wait_worker_ready(gateway, f"{socket.gethostname()}-cpu", worker_proc)
            # The image's HEALTHCHECK (the gateway's) and the worker's compose healthcheck.
            image = built_images()[services["gateway"]["image"]]
            assert run_check(image.healthcheck(), {**BASE_ENV, "LX_PORT": str(port)}) == 0
            (worker_check,) = compose_checks()
            test = services["worker"]["healthcheck"]["test"][1:]
            here = f"127.0.0.1:{port}"
            test = [t.replace(f"{worker_check.host}:{worker_check.port}", here) for t in test]
            assert run_check(test, BASE_ENV) == 0


def _materialized_secrets(root: Path) -> dict[str, dict[str, bytes]]:
    """Run make-secrets.sh as its header says; each Secret's data as kustomize makes it."""
    out = root / "secrets"
    script = KUSTOMIZATION.parent / "make-secrets.sh"
    with started(["sh", str(script), str(out)], {**BASE_ENV, "PYTHON": sys.executable}) as run:
        assert run.wait(60) == 0
    return {
        name: {
            key: (out / source.removeprefix("secrets/")).read_bytes()
            for key, source in files.items()
        }
        for name, files in generated_secrets().items()
    }


def _pod_paths(owner: str, root: Path, secrets: dict[str, dict[str, bytes]]) -> PathMap:
    """Each volume of the pod a folder; a Secret volume holds its items (or every key)."""
    (template,) = [t for o, t in pod_templates() if o == owner]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    paths = PathMap()
    (container,) = template["spec"]["containers"]
    for mount in container["volumeMounts"]:
        folder = paths.add(mount["mountPath"], root / owner.replace("/", "-") / mount["name"])
        secret = volumes[mount["name"]].get("secret")
        if secret:
            data = secrets[secret["secretName"]]
            items = secret.get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                (folder / item["path"]).parent.mkdir(parents=True, exist_ok=True)
                (folder / item["path"]).write_bytes(data[item["key"]])
    return paths


def test_kubernetes_gateway_and_gpu_worker_pods_run_together(tmp_path: Path) -> None:
    secrets = _materialized_secrets(tmp_path)
    processes = {p.source.split(":")[0]: p for p in kubernetes_processes()}
    gateway_pod, worker_pod = "Deployment/loquilex-gateway", "DaemonSet/loquilex-worker"
    endpoint, _ = free_tcp_endpoint()
    port = free_port()
    gateway_paths = _pod_paths(gateway_pod, tmp_path, secrets)
    gateway_env = _on_loopback(
        gateway_paths.rewrite_all(processes[gateway_pod].env), port, endpoint
    )
    worker_paths = _pod_paths(worker_pod, tmp_path, secrets)
    # The one change to the worker: this machine has no GPU, so it serves on the CPU.
    worker_argv = [
        worker_paths.rewrite(a).replace("$(NODE_NAME)", "node-a").replace("=cuda:0", "=cpu")
        for a in processes[worker_pod].argv
    ]
    worker_argv = _connect_to(worker_argv, endpoint)
    worker_env = worker_paths.rewrite_all(processes[worker_pod].env)
    with started(processes[gateway_pod].argv, {**BASE_ENV, **gateway_env, **OFFLINE}) as proc:
        gateway = GatewayProcess(proc, port)
        gateway.wait_ready(timeout_s=90)  # its own CPU worker
        with started(worker_argv, {**BASE_ENV, **worker_env, **OFFLINE}) as worker_proc:
            wait_worker_ready(gateway, "node-a-cuda-0", worker_proc)
            with gateway.client() as client:
                for probe in kubernetes_checks():
                    if probe.path in EXPECTED_FROM_SECURITY_WORK:
                        continue  # not a route until the probes work merges
                    answer = client.get(probe.path)
                    assert answer.status_code == 200, (probe.kind, probe.path, answer.text)
