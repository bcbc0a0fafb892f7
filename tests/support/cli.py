"""`loquilex-models` run as its own process, as an operator would: exit code and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The console script pip installed beside this interpreter; else the same entry point.
_SCRIPT = Path(sys.executable).with_name("loquilex-models")
COMMAND = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "gateway.cli.main"]


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, url: str | None = None, timeout_s: float = 120.0, **env: str) -> CliRun:
    """Run the CLI with `args` (and `--url` through LX_URL when given); never a terminal,
    so progress comes as plain lines on stderr."""
    environment = {**os.environ, **env}
    if "LX_API_TOKEN" not in env:  # a token in the shell must not reach these gateways
        environment.pop("LX_API_TOKEN", None)
    if url is not None:
        environment["LX_URL"] = url
    done = subprocess.run(
        [*COMMAND, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)
