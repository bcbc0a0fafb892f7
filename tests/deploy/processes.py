"""Every process the deploy files start, in one shape: where it comes from, its environment,
its command line and what is mounted (or created) for it, so each check is written once
for the Dockerfiles, the compose file, the Kubernetes manifests and the systemd units."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.dockerfiles import REPO, Dockerfile, built_images
from tests.deploy.systemd_unit import Unit, command_argv, parse_unit, service_environment

DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
KUSTOMIZATION = DEPLOY / "kubernetes/kustomization.yaml"
UNITS = (
    DEPLOY / "systemd/loquilex-gateway.service",
    DEPLOY / "systemd/loquilex-worker@.service",
)


@dataclass(frozen=True)
class Mount:
    path: str
    kind: str  # "volume" (any file may be there), "secret" (only `files`), "install"
    writable: bool
    # For a secret: the files it holds, relative to `path`.
    files: frozenset[str] = frozenset()
    # Kubernetes: the PersistentVolumeClaim behind it, if any.
    claim: str | None = None


@dataclass(frozen=True)
class Process:
    source: str  # e.g. "deploy/compose.yaml: gateway"
    env: dict[str, str]
    argv: list[str]
    mounts: list[Mount] = field(default_factory=list)
    image: str | None = None

    @property
    def runs(self) -> str:
        """ "gateway", "worker" or "other", from `python -m X` in its command line."""
        found = re.search(r"python3? -m (\w+)\b(?![.\w])", " ".join(self.argv))
        return found.group(1) if found and found.group(1) in ("gateway", "worker") else "other"

    def mount_of(self, path: str) -> Mount | None:
        """The innermost mount holding `path`."""
        holders = [m for m in self.mounts if path == m.path or path.startswith(m.path + "/")]
        return max(holders, key=lambda m: len(m.path), default=None)


def _image_env(image: Dockerfile) -> dict[str, str]:
    return {k: v for k, v in image.env().items() if k != "PATH"}


def dockerfile_processes() -> list[Process]:
    return [
        Process(
            source=str(image.path.relative_to(REPO)),
            env=_image_env(image),
            argv=image.cmd(),
            mounts=[Mount(v, "volume", True) for v in image.volumes()] + [_TMP],
            image=tag,
        )
        for tag, image in built_images().items()
    ]


_TMP = Mount("/tmp", "volume", True)


def load_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def compose_processes() -> list[Process]:
    compose = load_compose()
    images = built_images()
    processes = []
    for name, service in compose["services"].items():
        image = images[service["image"]]
        mounts = [_TMP]
        for volume in service.get("volumes", []):
            _, target, *options = volume.split(":")
            mounts.append(Mount(target, "volume", "ro" not in options))
        processes.append(
            Process(
                source=f"deploy/compose.yaml: {name}",
                env={**_image_env(image), **service.get("environment", {})},
                argv=service.get("command", image.cmd()),
                mounts=mounts,
                image=service["image"],
            )
        )
    return processes


def kubernetes_objects() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    objects: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        text = (KUSTOMIZATION.parent / resource).read_text()
        objects.extend(d for d in yaml.safe_load_all(text) if d)
    return objects


def generated_secrets() -> dict[str, dict[str, str]]:
    """Secret name -> {key: file it is made from, relative to the kustomization}."""
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    return {
        generator["name"]: dict(entry.split("=", 1) for entry in generator["files"])
        for generator in kustomization.get("secretGenerator", [])
    }


def pod_templates() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"])
        for o in kubernetes_objects()
        if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet")
    ]


def kubernetes_processes() -> list[Process]:
    images = built_images()
    secrets = generated_secrets()
    processes = []
    for owner, template in pod_templates():
        volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
        for container in template["spec"]["containers"]:
            image = images.get(container["image"])
            env = _image_env(image) if image else {}
            env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
            argv = container.get("command", image.cmd() if image else [])
            argv = [*argv, *container.get("args", [])]
            mounts = [
                _kubernetes_mount(m, volumes[m["name"]], secrets)
                for m in container.get("volumeMounts", [])
            ]
            processes.append(
                Process(f"{owner}: {container['name']}", env, argv, mounts, container["image"])
            )
    return processes


def _kubernetes_mount(
    mount: dict[str, Any], volume: dict[str, Any], secrets: dict[str, dict[str, str]]
) -> Mount:
    path, writable = mount["mountPath"], not mount.get("readOnly", False)
    if "secret" in volume:
        secret = volume["secret"]
        items = secret.get("items")
        keys = secrets.get(secret["secretName"], {})
        files = {i["path"] for i in items} if items else set(keys)
        return Mount(path, "secret", False, frozenset(files))
    claim = volume.get("persistentVolumeClaim", {}).get("claimName")
    return Mount(path, "volume", writable, claim=claim)


# Install-time files a unit names that no directive creates: the checkout and its venv.
INSTALL_ROOT = "/opt/loquilex-models"


def installed_env_files(unit: Unit) -> dict[str, Path]:
    """EnvironmentFile= path -> the example file the unit's install comment copies there."""
    found = {}
    for comment in unit.comments:
        match = re.search(r"install .*?(deploy/\S+\.env\.example) (/\S+)", comment)
        if match:
            found[match.group(2)] = REPO / match.group(1)
    return found


def unit_mounts(unit: Unit) -> list[Mount]:
    """The folders a unit has systemd create, and its install root."""
    mounts = [Mount(INSTALL_ROOT, "install", False)]
    for key, root, writable in (
        ("StateDirectory", "/var/lib", True),
        ("CacheDirectory", "/var/cache", True),
        ("ConfigurationDirectory", "/etc", False),
    ):
        mounts += [Mount(f"{root}/{name}", "volume", writable) for name in unit.words(key)]
    return mounts


def unit_process(path: Path, instance: str = "cpu") -> Process:
    unit = parse_unit(path)
    env = service_environment(unit, installed_env_files(unit), instance)
    argv = command_argv(unit.value("ExecStart") or "", env, instance)
    return Process(str(path.relative_to(REPO)), env, argv, unit_mounts(unit))


def every_process() -> list[Process]:
    return [
        *dockerfile_processes(),
        *compose_processes(),
        *kubernetes_processes(),
        *(unit_process(u) for u in UNITS),
    ]


_PATH = re.compile(r"(?<![\w$.:/-])/[\w.@-]+(?:/[\w.@-]+)*")


# Variables whose values are paths every process may read (huggingface_hub's cache).
CACHE_VARIABLES = ("HF_HOME", "HF_HUB_CACHE")


def named_paths(process: Process) -> set[str]:
    """Absolute paths the process uses: in its command line (a `sh -c` script included, but
    not the program it runs), for a gateway or worker in the cache variables, and for a
    gateway in its LX_* values (a worker reads none; the image sets LX_STATE_DIR for both)."""
    texts = list(process.argv[1:])
    for name, value in process.env.items():
        cache = name in CACHE_VARIABLES and process.runs != "other"
        if cache or (process.runs == "gateway" and name.startswith("LX_")):
            texts.append(value)
    paths = {p for text in texts for p in _PATH.findall(text)}
    return {p for p in paths if p not in ("/bin/sh", "/usr/bin/env")}
