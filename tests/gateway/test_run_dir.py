from __future__ import annotations

import os
from pathlib import Path

import psutil

from gateway.workers.run_dir import create_run_dir, remove_stale_run_dirs


def _dead_pid() -> int:
    pid = 4_000_000
    while psutil.pid_exists(pid):
        pid += 1
    return pid


def test_folders_of_dead_gateways_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    mine = create_run_dir(os.getpid(), tmp_path)
    (mine / "workers.sock").write_text("")
    stale = create_run_dir(_dead_pid(), tmp_path)
    (stale / "workers.sock").write_text("")
    unrelated = tmp_path / "loquilex-notes"
    unrelated.mkdir()
    assert remove_stale_run_dirs(tmp_path) == [stale]
    assert mine.is_dir() and unrelated.is_dir() and not stale.exists()
