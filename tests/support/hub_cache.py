"""A Hugging Face hub cache laid out on disk exactly as huggingface_hub writes it."""

from __future__ import annotations

import shutil
from pathlib import Path

_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def place_in_hub_cache(cache_dir: Path, repo_id: str, model_dir: Path) -> Path:
    """Copy `model_dir` in as the `main` snapshot of `repo_id`; returns the snapshot folder."""
    repo_dir = cache_dir / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / _COMMIT
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(model_dir, snapshot)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(_COMMIT)
    return snapshot
