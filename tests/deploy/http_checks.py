"""Every HTTP request the deploy files make of the gateway to judge it: the images'
HEALTHCHECK, the compose healthchecks, the Kubernetes probes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.deploy.dockerfiles import built_images
from tests.deploy.processes import load_compose, pod_templates

_URL = re.compile(r"http://([\w.-]+):(?:%s|(\d+))(/[\w/-]*)")


@dataclass(frozen=True)
class HttpCheck:
    source: str
    kind: str  # "healthcheck", "startupProbe", "livenessProbe", "readinessProbe"
    host: str
    port: int
    path: str
    # The environment of the process answering it (to compare LX_PORT).
    target_env: dict[str, str]


def _from_command(source: str, command: list[str], target_env: dict[str, str]) -> HttpCheck:
    text = " ".join(command)
    match = _URL.search(text)
    assert match, f"{source}: no http://HOST:PORT/PATH in its healthcheck {command}"
    host, port, path = match.groups()
    if port is None:  # 'http://127.0.0.1:%s/...' % os.environ.get('LX_PORT', '8000')
        default = re.search(r"environ\.get\('LX_PORT', '(\d+)'\)", text)
        assert default, f"{source}: the healthcheck's port is neither a number nor LX_PORT"
        port = target_env.get("LX_PORT", default.group(1))
    return HttpCheck(source, "healthcheck", host, int(port), path, target_env)


def image_checks() -> list[HttpCheck]:
    return [
        _from_command(str(image.path.name), image.healthcheck(), image.env())
        for image in built_images().values()
    ]


def compose_checks() -> list[HttpCheck]:
    compose = load_compose()
    services = compose["services"]
    images = built_images()
    checks = []
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        if not test:
            continue
        assert test[0] == "CMD", f"compose {name}: healthcheck in exec form"
        probe = _from_command(f"compose {name}", test[1:], {})
        target = services.get(probe.host, service)
        target_env = {**images[target["image"]].env(), **target.get("environment", {})}
        checks.append(_from_command(f"compose {name}", test[1:], target_env))
    return checks


def kubernetes_checks() -> list[HttpCheck]:
    images = built_images()
    checks = []
    for owner, template in pod_templates():
        for container in template["spec"]["containers"]:
            image = images.get(container["image"])
            env = image.env() if image else {}
            env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe: dict[str, Any] | None = container.get(kind, {}).get("httpGet")
                if probe:
                    port = probe["port"]
                    number = ports[port] if isinstance(port, str) else port
                    checks.append(
                        HttpCheck(
                            f"{owner}: {container['name']}", kind, "pod", number, probe["path"], env
                        )
                    )
    return checks


def every_check() -> list[HttpCheck]:
    return [*image_checks(), *compose_checks(), *kubernetes_checks()]


def probe_paths() -> list[str]:
    return [check.path for check in every_check()]
