"""Every file and folder the deploy files name is mounted or created where they name it,
every volume, claim, Secret and image they refer to exists, and the images are the ones
the Dockerfiles build."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from tests.deploy.dockerfiles import REPO, built_images
from tests.deploy.processes import (
    CACHE_VARIABLES,
    Process,
    every_process,
    generated_secrets,
    kubernetes_objects,
    kubernetes_processes,
    load_compose,
    named_paths,
    pod_templates,
)

PROCESSES = every_process()
IDS = [p.source for p in PROCESSES]


def _provided(process: Process, path: str) -> bool:
    mount = process.mount_of(path)
    if mount is None:
        return False
    if mount.kind != "secret":
        return True
    inside = str(PurePosixPath(path).relative_to(mount.path))
    # A file of the Secret, or a folder its files are in (the allow-list folder).
    return any(f == inside or f.startswith(inside + "/") for f in mount.files)


@pytest.mark.parametrize("process", PROCESSES, ids=IDS)
def test_every_path_named_is_mounted_or_created(process: Process) -> None:
    missing = sorted(p for p in named_paths(process) if not _provided(process, p))
    assert not missing, f"{process.source} names {missing}, which nothing mounts or creates"


SERVICE_PROCESSES = [p for p in PROCESSES if p.runs != "other"]


@pytest.mark.parametrize("process", SERVICE_PROCESSES, ids=[p.source for p in SERVICE_PROCESSES])
def test_state_and_model_cache_are_writable_volumes(process: Process) -> None:
    names = [*CACHE_VARIABLES, *(["LX_STATE_DIR"] if process.runs == "gateway" else [])]
    for name in names:
        path = process.env.get(name)
        assert path, f"{process.source}: {name} is not set"
        mount = process.mount_of(path)
        assert mount and mount.writable, f"{process.source}: {name}={path} is not writable"


def test_the_kubernetes_state_folder_is_a_claim_that_is_defined() -> None:
    claims = {
        o["metadata"]["name"] for o in kubernetes_objects() if o["kind"] == "PersistentVolumeClaim"
    }
    gateways = [p for p in kubernetes_processes() if p.runs == "gateway"]
    assert gateways
    for gateway in gateways:
        mount = gateway.mount_of(gateway.env["LX_STATE_DIR"])
        assert mount and mount.claim in claims, f"{gateway.source}: state on {mount}"
    referenced = {
        v["persistentVolumeClaim"]["claimName"]
        for _, template in pod_templates()
        for v in template["spec"].get("volumes", [])
        if "persistentVolumeClaim" in v
    }
    assert referenced <= claims, f"claims used but not defined: {sorted(referenced - claims)}"


def test_every_secret_used_is_generated_with_the_keys_used() -> None:
    secrets = generated_secrets()
    for owner, template in pod_templates():
        for volume in template["spec"].get("volumes", []):
            if "secret" not in volume:
                continue
            name = volume["secret"]["secretName"]
            assert name in secrets, f"{owner} mounts Secret {name}, which nothing makes"
            keys = {i["key"] for i in volume["secret"].get("items", [])}
            assert keys <= set(secrets[name]), f"{owner}: {name} lacks {keys - set(secrets[name])}"


def test_make_secrets_writes_every_file_the_secrets_are_made_from() -> None:
    script = (REPO / "deploy/kubernetes/make-secrets.sh").read_text()
    for secret, files in generated_secrets().items():
        for source in files.values():
            directory, _, name = source.partition("/")
            assert directory == "secrets", f"{secret}: made from {source}, outside secrets/"
            stem = name.removesuffix(".key_secret").removesuffix(".key")
            made = f'curve_keys "$out" {stem}' in script or f'"$out/{name}"' in script
            assert made, f"make-secrets.sh writes no {name} (for Secret {secret})"


def test_every_image_used_is_one_the_dockerfiles_build() -> None:
    images = built_images()
    assert set(images) == {"loquilex-models:cpu", "loquilex-models:cuda"}
    used = {p.image for p in PROCESSES if p.image} | {
        c["image"]
        for _, t in pod_templates()
        for c in [*t["spec"]["containers"], *t["spec"].get("initContainers", [])]
    }
    assert used <= set(images), f"images nothing builds: {sorted(used - set(images))}"
    for name, service in load_compose()["services"].items():
        dockerfile = REPO / "deploy" / service["build"]["context"] / service["build"]["dockerfile"]
        assert dockerfile.resolve() == images[service["image"]].path, name


def test_compose_volumes_and_dependencies_exist() -> None:
    compose = load_compose()
    services = compose["services"]
    declared = set(compose.get("volumes", {}))
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in declared, f"compose {name}: volume {source} is not declared"
        assert set(service.get("depends_on", {})) <= set(services), name


@pytest.mark.parametrize("tag", sorted(built_images()))
def test_images_are_multi_stage_non_root_with_volumes_they_own(tag: str) -> None:
    image = built_images()[tag]
    assert len(image.bases()) >= 2, "a builder stage and a runtime stage"
    user, _, group = image.user().partition(":")
    assert user.isdigit() and int(user) != 0 and group.isdigit(), "numeric and not root"
    env = image.env()
    for path in (env["LX_STATE_DIR"], env["HF_HOME"]):
        assert path in image.volumes(), f"{tag}: {path} is not a VOLUME"
        assert path in image.runs() and f"chown -R {user}:{group}" in image.runs(), path
    assert env["HF_HUB_CACHE"].startswith(env["HF_HOME"] + "/")


def test_the_cuda_image_has_cuda_12_and_cudnn_for_ctranslate2_4() -> None:
    image = built_images()["loquilex-models:cuda"]
    runtime = image.bases()[-1]
    assert runtime.startswith("nvidia/cuda:12.") and "-cudnn-runtime-" in runtime, runtime
    # ctranslate2 4.4 and older want cuDNN 8: the build keeps to 4.5+.
    assert image.runs().count('"ctranslate2>=4.5,<5"') == 1
    assert '"ctranslate2>=4.5,<5"' in "\n".join(image.all("RUN"))
