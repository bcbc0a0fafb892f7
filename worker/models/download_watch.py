"""Bytes of a download that have reached the disk, measured in the hub cache while it runs.

huggingface_hub writes each file to `blobs/<etag>.<random>.incomplete` and renames it to
`blobs/<etag>` when it is whole. The etag of every file is known up front from the repository's
listing (sha256 for LFS files, the git oid otherwise), so summing those files' sizes gives the true
count, resumed and already cached files included, whatever the library does internally.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_PARTIAL = ".incomplete"

DownloadFn = Callable[[int, int], None]
"""Called with (downloaded_bytes, total_bytes) as a download advances."""


@dataclass(frozen=True)
class RemoteFile:
    path: str  # inside the repository
    size: int
    blob: str  # its name under blobs/ and its hash: the LFS sha256, else the git blob oid
    lfs: bool = False


def bytes_on_disk(
    blobs_dir: Path, files: Sequence[RemoteFile], ignore: Set[str] = frozenset()
) -> int:
    """Bytes of `files` under `blobs_dir`: whole blobs, plus partial files not in `ignore`."""
    sizes = {n: s for n, s in _entry_sizes(blobs_dir).items() if n not in ignore}
    done = 0
    for remote in files:
        if remote.blob in sizes:
            done += remote.size
            continue
        prefix = remote.blob + "."
        partial = [s for n, s in sizes.items() if n.startswith(prefix) and n.endswith(_PARTIAL)]
        done += min(max(partial, default=0), remote.size)
    return done


def _entry_sizes(folder: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return sizes
    for entry in entries:
        # A file renamed or removed between the listing and the stat is simply skipped.
        with contextlib.suppress(FileNotFoundError):
            sizes[entry.name] = entry.stat().st_size
    return sizes


class ByteWatch:
    """Reports bytes on disk every `interval_s` while the `with` block runs, only when they grew.

    The interval is the throttle: a few events a second, however fast the transfer.
    """

    def __init__(
        self,
        blobs_dir: Path,
        files: Sequence[RemoteFile],
        report: DownloadFn,
        interval_s: float = 0.25,
    ) -> None:
        self._blobs_dir = blobs_dir
        self._files = tuple(files)
        self._report = report
        self._interval_s = interval_s
        self.total = sum(f.size for f in self._files)
        # Partial files from before (a worker killed mid-download) are not this download's bytes.
        self._stale = {n for n in _entry_sizes(blobs_dir) if n.endswith(_PARTIAL)}
        self.reported = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="download-watch", daemon=True)

    def __enter__(self) -> ByteWatch:
        self.poll()  # the total, and what is already here, before the first byte moves
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def measure(self) -> int:
        return bytes_on_disk(self._blobs_dir, self._files, self._stale)

    def finish(self) -> None:
        """Report the whole download once it is verified (after the `with` block)."""
        if self.reported < self.total:
            self.reported = self.total
            self._report(self.total, self.total)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.poll()

    def poll(self) -> None:
        """Measure, and report if the count grew."""
        done = self.measure()
        if done > self.reported:  # never backwards, even if a retry restarts a file
            self.reported = done
            self._report(done, self.total)
