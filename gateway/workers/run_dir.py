"""The gateway's folder for ipc:// socket files, and the ones dead gateways left behind.

ipc socket files outlive their sockets; a gateway that was SIGKILLed cannot remove its
folder, so the next gateway removes folders whose owner process is gone.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import psutil

_PREFIX = "loquilex-"
_OWNED = re.compile(rf"^{_PREFIX}(\d+)-")


def create_run_dir(pid: int, base: Path | None = None) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{pid}-", dir=base))


def remove_stale_run_dirs(base: Path | None = None) -> list[Path]:
    """Remove run folders of gateways that no longer run; returns what was removed."""
    root = Path(base or tempfile.gettempdir())
    removed = []
    for path in root.glob(f"{_PREFIX}*"):
        match = _OWNED.match(path.name)
        if match and path.is_dir() and not psutil.pid_exists(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
