"""The model folders under `LX_MODEL_DIRS`, the names a catalog model's folder may have, and a
cheap fingerprint that changes when the Hugging Face cache or a model folder changes.

Folder rule: a catalog model is found in `<dir>/<name>` where `<name>`, compared without case,
is the repository's or the model's name or its full id with `/` written `--` or kept as a
sub-folder. For `openai/whisper-base` (weights `Systran/faster-whisper-base`) any of
`faster-whisper-base`, `Systran--faster-whisper-base`, `Systran/faster-whisper-base`,
`whisper-base`, `openai--whisper-base` or `openai/whisper-base` matches. The folder must hold a
CTranslate2 model (`model.bin` + `config.json`). `LX_MODEL_DIRS` is searched in order and the
first match wins; a `<dir>` that is itself a model folder counts under its own name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from gateway.catalog.ct2_files import is_ct2_model_dir
from gateway.catalog.store import CatalogEntry

Fingerprint = tuple[tuple[str, int], ...]


def folder_names(entry: CatalogEntry) -> set[str]:
    """Lower-cased names (relative paths) a folder holding `entry` may have."""
    names: set[str] = set()
    for full_id in (entry.weights.repo_id, entry.model_id):
        names |= {full_id.rsplit("/", 1)[-1], full_id.replace("/", "--"), full_id}
    return {name.lower() for name in names}


def model_folders(model_dirs: Sequence[Path]) -> Iterator[tuple[str, Path]]:
    """(relative name, path) of each CTranslate2 model folder: a dir itself, its children, and
    its grandchildren under a child that is not a model (the `<owner>/<name>` layout)."""
    for base in model_dirs:
        if is_ct2_model_dir(base):
            yield base.name, base
        for child in _subdirs(base):
            if is_ct2_model_dir(child):
                yield child.name, child
                continue
            for grandchild in _subdirs(child):
                if is_ct2_model_dir(grandchild):
                    yield f"{child.name}/{grandchild.name}", grandchild


def _subdirs(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as it:
            found = [Path(e.path) for e in it if e.is_dir() and not e.name.startswith(".")]
    except OSError:  # missing or unreadable: nothing there
        return []
    return sorted(found)


def fingerprint(hub_cache_dir: Path, model_dirs: Sequence[Path]) -> Fingerprint:
    """Modification times of the folders whose content decides what discovery finds.

    A download adds a `models--*` folder, a snapshot folder, files inside it and a ref; copying
    a model into a model dir adds or fills a child folder. Each of those changes the mtime of
    one of the folders listed here, so a few hundred `stat` calls tell whether to rescan.
    """
    stamps: list[tuple[str, int]] = []
    _stamp(stamps, hub_cache_dir)
    for repo in _subdirs(hub_cache_dir):
        if not repo.name.startswith("models--"):
            continue
        _stamp(stamps, repo)
        refs, snapshots = repo / "refs", repo / "snapshots"
        _stamp(stamps, refs)
        _stamp(stamps, snapshots)
        # Rewriting refs/main in place does not touch the refs folder, so stamp each ref.
        for root, _dirs, files in os.walk(refs):
            for name in files:
                _stamp(stamps, Path(root, name))
        for snapshot in _subdirs(snapshots):
            _stamp(stamps, snapshot)
    for base in model_dirs:
        _stamp(stamps, base)
        for child in _subdirs(base):
            _stamp(stamps, child)
            for grandchild in _subdirs(child):
                _stamp(stamps, grandchild)
    return tuple(stamps)


def _stamp(stamps: list[tuple[str, int]], path: Path) -> None:
    try:
        stamps.append((str(path), path.stat().st_mtime_ns))
    except OSError:
        stamps.append((str(path), -1))  # absent: its later appearance is a change
