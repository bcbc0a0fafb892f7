"""Fetch a hub repository into the Hugging Face cache, with true byte progress.

The listing (sizes, hashes) is read before any file moves, so the total is known up front;
snapshot_download does the transfer while a ByteWatch counts what reaches the disk. Offline, only
the cache is read and nothing touches the network. A failed or damaged transfer never leaves a
snapshot that looks complete: huggingface_hub drops its partial files, and files that arrived
with the wrong content are removed again, so the next load downloads them anew.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub import HfApi, constants, get_cached_repo_tree, snapshot_download
from huggingface_hub.errors import (
    CachedRepoTreeNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RevisionResolutionError,
)
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.tqdm import tqdm as hf_tqdm

from protocol.errors import ErrorCode, ServiceError
from protocol.model_ids import check_model_id, stays_inside
from worker.models.download_check import damaged, discard
from worker.models.download_watch import ByteWatch, DownloadFn, RemoteFile
from worker.models.hub_errors import access_error, describe

log = logging.getLogger(__name__)

# Every CTranslate2 model folder has these: a snapshot without them is not a model.
REQUIRED_FILES = ("model.bin", "config.json")
# huggingface_hub writes 10 MiB at a time; smaller writes keep the byte count moving on slow links.
_WRITE_BYTES = 1 << 20
# What a transfer that stops half way raises: the network, the hub, or the file on disk.
_TRANSFER_ERRORS = (OSError, httpx2.HTTPError)


@dataclass(frozen=True)
class Hub:
    """Where repositories come from; None: huggingface_hub's own (HF_ENDPOINT, HF_HUB_CACHE)."""

    endpoint: str | None = None
    cache_dir: Path | None = None

    def storage(self, repo_id: str) -> Path:
        cache = self.cache_dir if self.cache_dir is not None else Path(constants.HF_HUB_CACHE)
        folder = repo_folder_name(repo_id=check_model_id(repo_id, "repo_id"), repo_type="model")
        if not stays_inside(str(cache), folder):
            raise _outside(repo_id, folder)
        return cache / folder


def offline_mode() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
        for name in ("LX_OFFLINE", "HF_HUB_OFFLINE")
    )


def hub_snapshot(
    model_id: str,
    repo_id: str,
    revision: str | None,
    on_bytes: DownloadFn | None = None,
    hub: Hub | None = None,
) -> Path:
    """The local snapshot folder of `repo_id`, downloading what is missing unless offline."""
    check_model_id(repo_id, "repo_id")  # its cache folder is built from it
    hub = hub or Hub()
    if offline_mode():
        cached = _complete_snapshot(repo_id, revision, hub)
        if cached is None:
            raise _download_required(model_id, repo_id, revision, hub, cause=None)
        return cached
    api = HfApi(endpoint=hub.endpoint)
    try:
        # One call to the hub; if it cannot be reached, the revision cached in refs/ is used.
        commit = api.resolve_revision(repo_id, revision=revision, cache_dir=hub.cache_dir).resolved
        cached = _complete_snapshot(repo_id, commit, hub)
        if cached is not None:
            return cached
        files = _listing(api, repo_id, commit)
    except (RevisionResolutionError, *_TRANSFER_ERRORS) as exc:
        raise _refusal(exc, model_id, repo_id) or _download_required(
            model_id, repo_id, revision, hub, cause=exc
        ) from exc
    return _download(model_id, repo_id, commit, files, on_bytes, hub)


def _listing(api: HfApi, repo_id: str, commit: str) -> list[RemoteFile]:
    files = [
        RemoteFile(
            path=entry.path,
            size=entry.lfs.size if entry.lfs else entry.size,
            blob=entry.lfs.sha256 if entry.lfs else entry.blob_id,
            lfs=entry.lfs is not None,
        )
        for entry in api.list_repo_tree(repo_id, revision=commit, recursive=True)
        if isinstance(entry, RepoFile)
    ]
    # Each file becomes snapshots/<commit>/<path> and blobs/<hash>: a hub (or a proxy) that
    # names a path or hash climbing out of the repository's folder gets nothing written.
    for remote in files:
        if not (stays_inside("/snapshot", remote.path) and stays_inside("/blobs", remote.blob)):
            raise _outside(repo_id, remote.path)
    if not stays_inside("/snapshots", commit):
        raise _outside(repo_id, commit)
    return files


def _outside(repo_id: str, name: str) -> ServiceError:
    return ServiceError(
        ErrorCode.INVALID_REQUEST,
        f"Refused {repo_id}: {name!r} would leave the Hugging Face cache folder.",
        {"repo_id": repo_id, "path": name},
    )


def _download(
    model_id: str,
    repo_id: str,
    commit: str,
    files: list[RemoteFile],
    on_bytes: DownloadFn | None,
    hub: Hub,
) -> Path:
    storage = hub.storage(repo_id)
    fresh = [f for f in files if not (storage / "snapshots" / commit / f.path).exists()]
    constants.DOWNLOAD_CHUNK_SIZE = min(constants.DOWNLOAD_CHUNK_SIZE, _WRITE_BYTES)
    watch = ByteWatch(storage / "blobs", files, on_bytes or _ignore)
    log.info("downloading %s for %s: %d bytes", repo_id, model_id, watch.total)
    with watch:
        try:
            folder = Path(
                snapshot_download(
                    repo_id,
                    revision=commit,
                    cache_dir=hub.cache_dir,
                    endpoint=hub.endpoint,
                    tqdm_class=_QuietBar,
                )
            )
        except _TRANSFER_ERRORS as exc:
            raise _refusal(exc, model_id, repo_id) or ServiceError(
                ErrorCode.DOWNLOAD_REQUIRED,
                f"The download of {repo_id} failed after {max(watch.reported, 0)} of "
                f"{watch.total} bytes ({describe(exc)}); no partial file was kept, so loading "
                "again downloads it anew.",
                _details(model_id, repo_id, watch.total, offline=False, cause=describe(exc)),
            ) from exc
    bad = damaged(folder, fresh)
    if bad:
        discard(storage, folder, bad)
        names = [f.path for f in bad]
        raise ServiceError(
            ErrorCode.DOWNLOAD_REQUIRED,
            f"The download of {repo_id} arrived damaged ({', '.join(names)}: wrong size or "
            "hash); those files were removed, so loading again downloads them anew.",
            _details(model_id, repo_id, watch.total, offline=False, damaged=names),
        )
    watch.finish()
    return folder


def _complete_snapshot(repo_id: str, revision: str | None, hub: Hub) -> Path | None:
    """The cached snapshot if every file of it is here; never touches the network."""
    try:
        folder = Path(
            snapshot_download(
                repo_id, revision=revision, cache_dir=hub.cache_dir, local_files_only=True
            )
        )
    except LocalEntryNotFoundError:  # absent, or incomplete by the listing cached with it
        return None
    # Snapshots cached without a listing (older caches) must at least hold the model's files.
    return folder if all((folder / name).is_file() for name in REQUIRED_FILES) else None


def _refusal(exc: BaseException, model_id: str, repo_id: str) -> ServiceError | None:
    """The hub said no (gated, private, missing, bad request), as opposed to not answering."""
    refused = access_error(exc, model_id, repo_id)
    if refused is not None:
        return refused
    status = exc.response.status_code if isinstance(exc, HfHubHTTPError) else 500
    if status < 500:
        return ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"The hub refused {repo_id}: {describe(exc)}",
            {"model_id": model_id, "repo_id": repo_id, "status": status},
        )
    return None


def _download_required(
    model_id: str, repo_id: str, revision: str | None, hub: Hub, cause: BaseException | None
) -> ServiceError:
    size = _cached_listing_bytes(repo_id, revision, hub)
    size_text = f" ({size / 1e6:.1f} MB)" if size else ""
    details = _details(model_id, repo_id, size, offline=cause is None)
    if cause is None:
        where = "the service is offline"
    else:
        details["cause"] = describe(cause)
        where = f"the hub cannot be reached ({details['cause']})"
    return ServiceError(
        ErrorCode.DOWNLOAD_REQUIRED,
        f"Model {model_id} is not on this machine and {where}: its weights{size_text} must be "
        f"downloaded from {repo_id}.",
        details,
    )


def _cached_listing_bytes(repo_id: str, revision: str | None, hub: Hub) -> int | None:
    """The repository's size from the listing an earlier, perhaps broken, download cached."""
    try:
        tree = get_cached_repo_tree(repo_id, revision=revision, cache_dir=hub.cache_dir)
    except CachedRepoTreeNotFoundError:
        return None
    return sum(entry.size for entry in tree)


def _details(model_id: str, repo_id: str, size_bytes: int | None, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"model_id": model_id, "repo_id": repo_id}
    if size_bytes:
        details["size_bytes"] = size_bytes
        details["size_mb"] = round(size_bytes / 1e6, 1)
    return {**details, **extra}


def _ignore(done: int, total: int) -> None:
    pass


class _QuietBar(hf_tqdm):
    """No progress bars in the worker's log: the ByteWatch reports progress as events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["disable"] = True
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]  # tqdm has no hints
