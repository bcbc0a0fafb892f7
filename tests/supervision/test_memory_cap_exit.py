"""A worker past its memory cap exits with its own code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.wire.exit_codes import EXIT_MEMORY_LIMIT

pytestmark = pytest.mark.integration


def test_a_worker_over_its_cap_exits_with_the_memory_limit_code(tmp_path: Path) -> None:
    # 1 MB is below any Python process: the cap trips as soon as the worker starts.
    command = [sys.executable, "-m", "worker", "--connect", f"ipc://{tmp_path}/none.sock"]
    command += ["--memory-limit-mb", "1", "--parent-pid", str(os.getpid())]
    process = subprocess.run(command, capture_output=True, timeout=20)
    assert process.returncode == EXIT_MEMORY_LIMIT
    assert b"passed the limit of 1 MB" in process.stderr
