"""Check freshly downloaded files against the repository's listing, and drop the ones that fail.

huggingface_hub checks a file's length but not its content; a proxy or a flaky disk can still hand
over the right number of wrong bytes. Each blob is named by its hash (sha256 for LFS files, the git
blob oid otherwise), so the check needs nothing but the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from worker.models.download_watch import RemoteFile

_READ_BYTES = 1 << 20


def content_hash(path: Path, lfs: bool) -> str:
    """sha256 of the content for LFS files, else git's blob oid (sha1 of a header + content)."""
    digest = hashlib.sha256() if lfs else hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as f:
        while chunk := f.read(_READ_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def damaged(snapshot: Path, files: Sequence[RemoteFile]) -> list[RemoteFile]:
    """The files missing from `snapshot`, or whose size or hash is not what the listing says."""
    bad = []
    for remote in files:
        path = snapshot / remote.path
        whole = path.is_file() and path.stat().st_size == remote.size
        if not whole or content_hash(path, remote.lfs) != remote.blob:
            bad.append(remote)
    return bad


def discard(storage: Path, snapshot: Path, files: Sequence[RemoteFile]) -> None:
    """Remove the files' snapshot entries and blobs, so the snapshot no longer looks complete and
    the next download fetches them again instead of relinking a bad blob."""
    for remote in files:
        (snapshot / remote.path).unlink(missing_ok=True)
        (storage / "blobs" / remote.blob).unlink(missing_ok=True)
