"""Counting a download's bytes from the hub cache's blobs folder."""

from __future__ import annotations

from pathlib import Path

from worker.models.download_watch import ByteWatch, RemoteFile, bytes_on_disk

FILES = [
    RemoteFile("model.bin", 1000, "aa" * 32, lfs=True),
    RemoteFile("config.json", 10, "b" * 40),
]


def _write(folder: Path, name: str, size: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(b"x" * size)


def test_whole_blobs_count_in_full_and_partial_files_by_their_size(tmp_path: Path) -> None:
    blobs = tmp_path / "blobs"
    assert bytes_on_disk(blobs, FILES) == 0  # no folder yet
    _write(blobs, "b" * 40, 10)
    _write(blobs, "aa" * 32 + ".1a2b3c4d.incomplete", 300)
    _write(blobs, "cc" * 32 + ".99999999.incomplete", 500)  # another repository's file
    assert bytes_on_disk(blobs, FILES) == 310
    assert bytes_on_disk(blobs, FILES, ignore={"aa" * 32 + ".1a2b3c4d.incomplete"}) == 10


def test_a_watch_reports_growth_only_and_ignores_what_a_killed_download_left(
    tmp_path: Path,
) -> None:
    blobs = tmp_path / "blobs"
    _write(blobs, "aa" * 32 + ".deadbeef.incomplete", 900)  # left by a killed worker
    reports: list[tuple[int, int]] = []
    with ByteWatch(blobs, FILES, lambda done, total: reports.append((done, total)), 60.0) as w:
        _write(blobs, "aa" * 32 + ".0000feed.incomplete", 400)
        w.poll()
        _write(blobs, "aa" * 32 + ".0000feed.incomplete", 100)  # a restart: fewer bytes
        w.poll()
    w.finish()
    assert reports == [(0, 1010), (400, 1010), (1010, 1010)]
