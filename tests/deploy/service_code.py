"""What the service's code accepts, read from the code itself: the LX_* variables (those
Settings.from_env reads, and those read from os.environ elsewhere), whether a set of values
is valid, and the app's HTTP routes."""

from __future__ import annotations

import ast
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from starlette.routing import Route

from gateway.app import create_app
from gateway.settings import Settings

REPO = Path(__file__).resolve().parents[2]


class _RecordingEnv(Mapping[str, str]):
    """An environment that notes every name looked up in it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def read_by_settings(env: Mapping[str, str]) -> set[str]:
    """Names Settings.from_env looks up, with nothing set and with `env` set (a name read
    only when another is set, such as LX_WORKER_LISTEN's key files, is found that way)."""
    names: set[str] = set()
    for values in ({}, env):
        recording = _RecordingEnv(values)
        # An invalid value is the value checks' business; what was read still counts.
        with contextlib.suppress(ValueError):
            Settings.from_env(recording)
        names |= recording.read
    return names


def read_from_os_environ() -> dict[str, str]:
    """LX_* names the gateway and worker read from os.environ outside Settings (such as
    LX_LOG_LEVEL in both __main__ modules) -> the module reading each."""
    found: dict[str, str] = {}
    for package in ("gateway", "worker"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                name = _environ_key(node)
                if name and name.startswith("LX_"):
                    found.setdefault(name, str(path.relative_to(REPO)))
    return found


def _environ_key(node: ast.AST) -> str | None:
    """The literal key of `os.environ.get("X")`, `os.getenv("X")` or `os.environ["X"]`."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        on_environ = (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "environ"
        )
        getenv = isinstance(func, ast.Attribute) and func.attr == "getenv"
        if on_environ or getenv:
            return str(node.args[0].value)
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "environ"
        and isinstance(node.slice, ast.Constant)
    ):
        return str(node.slice.value)
    return None


# How the values of the variables read outside Settings are checked: as the code uses them.
OUTSIDE_SETTINGS_CHECKS: dict[str, Callable[[str], bool]] = {
    # logging.basicConfig(level=value.upper()) in gateway/__main__.py and worker/__main__.py
    "LX_LOG_LEVEL": lambda value: value.upper() in logging.getLevelNamesMapping(),
}


def with_paths_made(env: Mapping[str, str], root: Path) -> dict[str, str]:
    """`env` with each absolute path moved under `root` and made there (a folder for *_DIR,
    a file holding a token for *_FILE), so settings that read their files find them."""
    made: dict[str, str] = {}
    for name, value in env.items():
        if not value.startswith("/"):
            made[name] = value
            continue
        path = root / value.lstrip("/")
        if name.endswith("_FILE"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
        elif name.endswith("_DIR"):
            path.mkdir(parents=True, exist_ok=True)
        made[name] = str(path)
    return made


def get_routes() -> set[str]:
    """Paths of the app's GET routes (built with create_app, not started)."""
    app = create_app(Settings(devices=("cpu",)))
    return {
        route.path
        for route in app.routes
        if isinstance(route, Route) and "GET" in (route.methods or ())
    }
