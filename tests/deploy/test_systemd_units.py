"""The systemd units, read as systemd reads them: the state folder survives the env file,
both units raise the descriptor limit and are hardened without hiding the GPUs; and the
reading itself follows the examples of systemd's manual."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.processes import UNITS, installed_env_files, unit_process
from tests.deploy.systemd_unit import command_argv, parse_unit, service_environment, split_words

GATEWAY_UNIT, WORKER_UNIT = UNITS


def test_command_lines_expand_as_the_manual_example_says() -> None:
    # systemd.service(5), "Command lines".
    env = dict(w.split("=", 1) for w in split_words("""ONE='one' "TWO='two two' too" THREE="""))
    assert env == {"ONE": "'one'", "TWO": "'two two' too", "THREE": ""}
    braced = command_argv("/bin/echo ${ONE} ${TWO} ${THREE}", env)
    assert braced == ["/bin/echo", "'one'", "'two two' too", ""]
    assert command_argv("/bin/echo $ONE $TWO $THREE", env) == ["/bin/echo", "one", "two two", "too"]
    assert command_argv("/bin/sh -c 'echo $$HOME %i'", {}, "cpu") == [
        "/bin/sh",
        "-c",
        "echo $HOME cpu",
    ]


def test_an_environment_file_overrides_environment_lines_wherever_they_stand(
    tmp_path: Path,
) -> None:
    unit_file = tmp_path / "x.service"
    unit_file.write_text(
        "[Service]\nEnvironmentFile=/etc/x.env\nEnvironment=A=unit B=unit\nExecStart=/bin/true\n"
    )
    env_file = tmp_path / "x.env"
    env_file.write_text("# comment\nA=file\n")
    env = service_environment(parse_unit(unit_file), {"/etc/x.env": env_file})
    assert env == {"A": "file", "B": "unit"}


def test_the_gateway_keeps_its_state_in_its_state_directory() -> None:
    unit = parse_unit(GATEWAY_UNIT)
    process = unit_process(GATEWAY_UNIT)
    (state,) = unit.words("StateDirectory")
    (cache,) = unit.words("CacheDirectory")
    assert process.env["LX_STATE_DIR"] == f"/var/lib/{state}"
    assert process.env["HF_HUB_CACHE"].startswith(f"/var/cache/{cache}/")
    # And not because the env file is absent: it is read, and sets other things.
    (env_file,) = installed_env_files(unit).values()
    assert env_file.exists() and process.env["LX_PORT"] == "8000"


@pytest.mark.parametrize("path", UNITS, ids=[u.name for u in UNITS])
def test_each_unit_raises_the_descriptor_limit_and_is_hardened(path: Path) -> None:
    unit = parse_unit(path)
    assert unit.value("LimitNOFILE") == "65536"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert unit.value(key) == value, key
    writable = set(unit.words("ReadWritePaths"))
    for key, root in (("StateDirectory", "/var/lib"), ("CacheDirectory", "/var/cache")):
        assert {f"{root}/{name}" for name in unit.words(key)} <= writable, key
    # These would hide /dev/nvidia* from CUDA workers (ProtectClock= implies DeviceAllow=).
    for key in ("PrivateDevices", "ProtectClock", "DeviceAllow", "DevicePolicy"):
        assert unit.value(key) is None, key


def test_the_worker_unit_hands_an_empty_memory_limit_to_sh_as_none() -> None:
    process = unit_process(WORKER_UNIT, instance="cuda:0")
    assert process.argv[:2] == ["/bin/sh", "-c"] and process.argv[-1] == "cuda:0"
    assert '--memory-limit-mb "${LX_WORKER_MEMORY_LIMIT_MB:-0}"' in process.argv[2]
    assert process.argv[2].startswith("exec ")
