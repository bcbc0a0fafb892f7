"""The worker's memory cap: measured against RSS; a worker past it exits with its own code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from protocol.wire.exit_codes import EXIT_MEMORY_LIMIT
from worker.memory_cap import MemoryCap


def test_exceeded_only_past_the_limit() -> None:
    rss = [100.0]
    cap = MemoryCap(150.0, lambda why: None, measure=lambda: rss[0])
    assert cap.exceeded() is None
    rss[0] = 151.0
    why = cap.exceeded()
    assert why is not None and "151 MB" in why and "150 MB" in why


def test_a_worker_over_its_cap_exits_with_the_memory_limit_code(tmp_path: Path) -> None:
    # 1 MB is below any Python process: the cap trips as soon as the worker starts.
    command = [sys.executable, "-m", "worker", "--connect", f"ipc://{tmp_path}/none.sock"]
    command += ["--memory-limit-mb", "1", "--parent-pid", str(os.getpid())]
    process = subprocess.run(command, capture_output=True, timeout=20)
    assert process.returncode == EXIT_MEMORY_LIMIT
    assert b"passed the limit of 1 MB" in process.stderr
