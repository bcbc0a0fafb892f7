"""Every LX_* variable the deploy files set is one the code reads, with a value it accepts;
every worker command line is one the worker accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.settings import Settings, SettingsError
from gateway.workers.curve_keys import generate
from tests.deploy.allow_list import EXPECTED_FROM_SECURITY_WORK
from tests.deploy.http_checks import probe_paths
from tests.deploy.processes import Process, every_process, named_paths
from tests.deploy.service_code import (
    OUTSIDE_SETTINGS_CHECKS,
    get_routes,
    read_by_settings,
    read_from_os_environ,
    with_paths_made,
)
from worker.__main__ import parse_args

PROCESSES = every_process()
OUTSIDE = read_from_os_environ()


def _lx(process: Process) -> dict[str, str]:
    return {k: v for k, v in process.env.items() if k.startswith("LX_")}


def _checked(process: Process) -> dict[str, str]:
    """Its LX_* variables that the code has now (the allow-listed ones are not yet)."""
    return {k: v for k, v in _lx(process).items() if k not in EXPECTED_FROM_SECURITY_WORK}


@pytest.mark.parametrize("process", PROCESSES, ids=[p.source for p in PROCESSES])
def test_every_lx_variable_is_one_the_code_reads(process: Process) -> None:
    known = read_by_settings(process.env) | set(OUTSIDE)
    unknown = set(_checked(process)) - known
    assert not unknown, f"{process.source} sets {sorted(unknown)}, which no code reads"


def test_the_allow_list_holds_only_names_still_missing_and_used() -> None:
    every_env = {k: v for p in PROCESSES for k, v in p.env.items()}
    in_code = read_by_settings(every_env) | set(OUTSIDE) | get_routes()
    stale = EXPECTED_FROM_SECURITY_WORK & in_code
    assert not stale, f"{sorted(stale)} exist in the code now: remove them from the allow-list"
    used = set(every_env) | {p for process in PROCESSES for p in named_paths(process)}
    unused = EXPECTED_FROM_SECURITY_WORK - used - set(probe_paths())
    assert not unused, f"{sorted(unused)} are allow-listed but no deploy file uses them"


_VALUES = [
    (process, name)
    for process in PROCESSES
    for name in sorted(_checked(process))
    if name not in OUTSIDE
]


@pytest.mark.parametrize(("process", "name"), _VALUES, ids=[f"{p.source}: {n}" for p, n in _VALUES])
def test_each_value_is_one_the_settings_accept(process: Process, name: str, tmp_path: Path) -> None:
    value = process.env[name]
    try:
        Settings.from_env(with_paths_made({name: value}, tmp_path))
    except SettingsError:
        # Some need their companions (LX_WORKER_LISTEN and its key files): with them it passes.
        Settings.from_env(with_paths_made(_checked(process), tmp_path))


_OUTSIDE_VALUES = [
    (process, name)
    for process in PROCESSES
    for name in sorted(_checked(process))
    if name in OUTSIDE
]


@pytest.mark.parametrize(
    ("process", "name"), _OUTSIDE_VALUES, ids=[f"{p.source}: {n}" for p, n in _OUTSIDE_VALUES]
)
def test_values_read_outside_settings_are_ones_the_code_accepts(
    process: Process, name: str
) -> None:
    check = OUTSIDE_SETTINGS_CHECKS.get(name)
    assert check, f"{name} (read in {OUTSIDE[name]}) has no value check in service_code.py"
    assert check(process.env[name]), f"{process.source}: {name}={process.env[name]!r}"


_GATEWAYS = [p for p in PROCESSES if p.runs == "gateway"]


@pytest.mark.parametrize("process", _GATEWAYS, ids=[p.source for p in _GATEWAYS])
def test_each_gateway_environment_passes_the_start_up_checks(
    process: Process, tmp_path: Path
) -> None:
    settings = Settings.from_env(with_paths_made(_checked(process), tmp_path))
    # create_app runs the checks start-up runs (defaults and preloads against the catalog
    # and the devices) without starting anything.
    app = create_app(settings)
    assert app.routes


_WORKERS = [p for p in PROCESSES if p.runs == "worker" and p.argv[0] != "/bin/sh"]


@pytest.mark.parametrize("process", _WORKERS, ids=[p.source for p in _WORKERS])
def test_each_worker_command_line_is_one_the_worker_accepts(
    process: Process, tmp_path: Path
) -> None:
    # Real key files where the command names them: the worker reads them while parsing.
    public, secret = generate(tmp_path, "key")
    args = process.argv[process.argv.index("worker") + 1 :]
    args = [a.replace("$(NODE_NAME)", "node-a") for a in args]
    for flag, path in (("--server-key", public), ("--secret-key-file", secret)):
        args = [f"{flag}={path}" if a.startswith(f"{flag}=") else a for a in args]
    config, memory_limit_mb = parse_args(args)
    assert config.curve is not None, "a remote worker connects with CURVE keys"
    assert config.connect.startswith("tcp://")
    assert memory_limit_mb >= 0
