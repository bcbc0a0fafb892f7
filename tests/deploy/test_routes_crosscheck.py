"""Ports, probes and healthchecks in the deploy files match the app: the paths are its
routes, the ports are where it listens, and the workers reach the gateway's worker port."""

from __future__ import annotations

import pytest

from tests.deploy.allow_list import EXPECTED_FROM_SECURITY_WORK
from tests.deploy.dockerfiles import built_images
from tests.deploy.http_checks import HttpCheck, every_check, kubernetes_checks
from tests.deploy.processes import (
    compose_processes,
    kubernetes_objects,
    kubernetes_processes,
    load_compose,
    pod_templates,
)
from tests.deploy.service_code import get_routes

CHECKS = every_check()


@pytest.mark.parametrize("check", CHECKS, ids=[f"{c.source} {c.kind}" for c in CHECKS])
def test_every_check_asks_a_route_on_the_port_the_gateway_listens_on(check: HttpCheck) -> None:
    routes = get_routes() | EXPECTED_FROM_SECURITY_WORK
    assert check.path in routes, f"{check.source}: {check.path} is not a GET route"
    assert check.port == int(check.target_env.get("LX_PORT", "8000")), check


def test_kubernetes_probes_are_healthz_for_liveness_and_readyz_for_readiness() -> None:
    paths = {c.kind: c.path for c in kubernetes_checks()}
    assert paths == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }


@pytest.mark.parametrize("tag", sorted(built_images()))
def test_images_expose_the_port_they_listen_on(tag: str) -> None:
    image = built_images()[tag]
    assert image.exposed_ports() == [int(image.env()["LX_PORT"])]


def _port(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
    return host, int(port)


def _connect(argv: list[str]) -> str:
    return next(a.split("=", 1)[1] for a in argv if a.startswith("--connect="))


def test_the_compose_worker_connects_to_the_gateway_service_worker_port() -> None:
    processes = {p.source.split(": ")[1]: p for p in compose_processes()}
    host, port = _port(_connect(processes["worker"].argv))
    assert host in processes and processes[host].runs == "gateway"
    assert _port(processes[host].env["LX_WORKER_LISTEN"])[1] == port


def test_the_kubernetes_worker_connects_to_a_service_of_the_gateway_worker_port() -> None:
    objects = kubernetes_objects()
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    gateway = next(p for p in kubernetes_processes() if p.runs == "gateway")
    worker = next(p for p in kubernetes_processes() if p.runs == "worker")
    host, port = _port(_connect(worker.argv))
    service = services[host]
    target = next(p["targetPort"] for p in service["spec"]["ports"] if p["port"] == port)
    container = next(
        c
        for _, t in pod_templates()
        for c in t["spec"]["containers"]
        if t["metadata"]["labels"] == service["spec"]["selector"]
    )
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports[target] == _port(gateway.env["LX_WORKER_LISTEN"])[1]
    # The gateway is ready once a worker is: its workers must reach it before that.
    assert service["spec"].get("publishNotReadyAddresses") is True


def test_every_kubernetes_service_selects_a_pod_and_its_named_ports() -> None:
    templates = [t for _, t in pod_templates()]
    for service in (o for o in kubernetes_objects() if o["kind"] == "Service"):
        selected = [t for t in templates if t["metadata"]["labels"] == service["spec"]["selector"]]
        assert len(selected) == 1, service["metadata"]["name"]
        names = {p["name"] for c in selected[0]["spec"]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in names, (service["metadata"]["name"], port)


def test_the_worker_daemonset_asks_for_a_gpu_and_runs_a_cuda_worker() -> None:
    (template,) = [t for owner, t in pod_templates() if owner.startswith("DaemonSet/")]
    (container,) = template["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "--device=cuda:0" in container["args"]
    assert container["image"] == "loquilex-models:cuda"


def test_compose_runs_no_local_worker_in_the_gateway() -> None:
    # The worker service is the one worker: the gateway's own would hide a broken remote path.
    gateway = load_compose()["services"]["gateway"]
    assert gateway["environment"]["LX_WORKER_DEVICES"] == ""
