"""Where each model is on this machine: bundled in a package, in the Hugging Face cache, in a
folder under LX_MODEL_DIRS, or nowhere (download required); plus CTranslate2 folders the
catalog does not know.

The scan walks the cache and the model folders, so it runs once and again only when the cheap
fingerprint of those folders changes, checked at most every `refresh_interval_s`.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from gateway.catalog.ct2_files import folder_size_mb, is_ct2_model_dir, read_model_bin_header
from gateway.catalog.local_models import LOCAL_PREFIX, LocalModel, inspect_model_dir
from gateway.catalog.model_dirs import Fingerprint, fingerprint, folder_names, model_folders
from gateway.catalog.store import Catalog, CatalogEntry, WeightsSource
from protocol.api.catalog import ModelLocation
from protocol.model_ids import model_id_problem
from protocol.wire.messages import ModelSource

log = logging.getLogger(__name__)

_MB = 1024 * 1024
_SPEC_OF_KIND = {"asr": "WhisperSpec", "mt": "TransformerSpec"}


def default_hub_cache_dir() -> Path:
    """The cache huggingface_hub itself uses (HF_HUB_CACHE, HF_HOME, ~/.cache/huggingface)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def bundled_model_dir(package: str) -> Path | None:
    """`<package>/model` of an installed package, found without importing it (the gateway must
    not pull in ctranslate2); None if the package or its model is absent."""
    try:
        spec = importlib.util.find_spec(package.replace("-", "_"))
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    model = Path(next(iter(spec.submodule_search_locations))) / "model"
    return model if is_ct2_model_dir(model) else None


def load_source(location: ModelLocation, weights: WeightsSource | None = None) -> ModelSource:
    """What a worker loads: the folder found here, else the repository to download from."""
    if location.path is not None:
        return ModelSource(
            bundled=location.kind == "bundled",
            repo_id=location.repo_id,
            revision=location.revision,
            local_path=location.path,
        )
    return ModelSource(
        repo_id=location.repo_id, revision=weights.revision if weights is not None else None
    )


class _Found(msgspec.Struct, frozen=True):
    locations: dict[str, ModelLocation]
    local_models: dict[str, LocalModel]


class ModelDiscovery:
    """Answers where each catalog model (and each uncatalogued local model) is."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        hub_cache_dir: Path,
        model_dirs: Sequence[Path],
        clock: Callable[[], float] = time.monotonic,
        refresh_interval_s: float = 5.0,
        find_bundled: Callable[[str], Path | None] = bundled_model_dir,
    ) -> None:
        self._catalog = catalog
        self._hub_cache_dir = hub_cache_dir
        self._model_dirs = list(model_dirs)
        self._clock = clock
        self._interval = refresh_interval_s
        self._find_bundled = find_bundled
        self._lock = threading.Lock()  # routes may ask from several threads at once
        self._found: _Found | None = None
        self._fingerprint: Fingerprint = ()
        self._checked_at = 0.0
        self._inspected: dict[tuple[str, str], tuple[_FilesKey, LocalModel | None]] = {}
        self.scan_count = 0
        self.last_scan_s = 0.0
        # When the disk was last looked at (ISO 8601, UTC): a fingerprint check or a scan.
        self.checked_at = datetime.now(UTC).isoformat()

    def locations(self) -> dict[str, ModelLocation]:
        """Every catalog model's location, then each uncatalogued model as `local/<name>`."""
        return dict(self._current().locations)

    def location(self, model_id: str) -> ModelLocation | None:
        return self._current().locations.get(model_id)

    def cached_listing_bytes(self, repo_id: str, revision: str | None) -> int | None:
        """The repository's size from the file listing an earlier (perhaps broken) download
        left in the cache; None without one. Reads the disk only."""
        from huggingface_hub import get_cached_repo_tree
        from huggingface_hub.errors import CachedRepoTreeNotFoundError

        try:
            tree = get_cached_repo_tree(repo_id, revision=revision, cache_dir=self._hub_cache_dir)
        except (CachedRepoTreeNotFoundError, OSError, ValueError):
            return None
        return sum(entry.size for entry in tree) or None

    def local_models(self) -> list[LocalModel]:
        """CTranslate2 folders under LX_MODEL_DIRS that no catalog entry claims."""
        return list(self._current().local_models.values())

    def local_model(self, model_id: str) -> LocalModel | None:
        return self._current().local_models.get(model_id)

    def refresh(self, *, force: bool = False) -> bool:
        """Rescan if due and something changed (or if forced); True when it rescanned."""
        with self._lock:
            now = self._clock()
            if self._found is not None and not force and now - self._checked_at < self._interval:
                return False
            self._checked_at = now
            self.checked_at = datetime.now(UTC).isoformat()
            # Taken before scanning: a change made during the scan shows up next time.
            stamp = fingerprint(self._hub_cache_dir, self._model_dirs)
            if self._found is not None and not force and stamp == self._fingerprint:
                return False
            started = time.perf_counter()
            self._found = self._scan()
            self.last_scan_s = time.perf_counter() - started
            self._fingerprint = stamp
            self.scan_count += 1
            return True

    def _current(self) -> _Found:
        self.refresh()
        assert self._found is not None
        return self._found

    def _scan(self) -> _Found:
        hub = _scan_hub(self._hub_cache_dir)
        folders = list(model_folders(self._model_dirs))
        claimed: set[Path] = set()
        locations: dict[str, ModelLocation] = {}
        for entry in self._catalog.asr_entries() + self._catalog.mt_entries():
            local = self._local_folder(entry, folders, claimed)
            locations[entry.model_id] = self._locate(entry, hub, local)
        local_models: dict[str, LocalModel] = {}
        for name, path in folders:
            if path in claimed:
                continue
            if model_id_problem(LOCAL_PREFIX + name) is not None:
                # Its id would be refused by every route: list only what can be loaded.
                log.warning("model folder %s is skipped: its name cannot be a model id", path)
                continue
            model = self._inspect(name, path)
            if model is None or model.model_id in local_models:
                continue  # not a model we serve, or the same name in an earlier LX_MODEL_DIRS
            local_models[model.model_id] = model
            locations[model.model_id] = ModelLocation(
                kind="local", path=model.path, size_on_disk_mb=model.size_on_disk_mb
            )
        return _Found(locations=locations, local_models=local_models)

    def _local_folder(
        self, entry: CatalogEntry, folders: list[tuple[str, Path]], claimed: set[Path]
    ) -> Path | None:
        names = folder_names(entry)
        matches = [path for name, path in folders if name.lower() in names]
        # A folder named like the model but holding another kind of model is not that model.
        matches = [path for path in matches if _holds_kind(path, entry.kind)]
        claimed.update(matches)
        return matches[0] if matches else None

    def _locate(
        self, entry: CatalogEntry, hub: dict[str, _CachedRepo], local: Path | None
    ) -> ModelLocation:
        weights = entry.weights
        repo_id = weights.repo_id
        # Bundled first (it ships with the service and cannot be a partial copy), then the
        # operator's own folder, then the cache.
        bundled = (
            self._find_bundled(weights.package) if weights.bundled and weights.package else None
        )
        if bundled is not None:
            return ModelLocation(
                kind="bundled",
                path=str(bundled),
                size_on_disk_mb=folder_size_mb(bundled),
                repo_id=repo_id,
            )
        if local is not None:
            return ModelLocation(
                kind="local",
                path=str(local),
                size_on_disk_mb=folder_size_mb(local),
                repo_id=repo_id,
            )
        cached = hub.get(repo_id.lower())
        snapshot = cached.snapshot(weights) if cached is not None else None
        if cached is not None and snapshot is not None:
            path, commit = snapshot
            return ModelLocation(
                kind="cached",
                path=path,
                size_on_disk_mb=cached.size_mb,
                repo_id=repo_id,
                revision=commit,
            )
        return ModelLocation(kind="download_required", repo_id=repo_id, revision=weights.revision)

    def _inspect(self, name: str, path: Path) -> LocalModel | None:
        # Reading an NLLB vocabulary (256k tokens) again on every rescan would be wasteful:
        # reuse the last answer while the folder's files are unchanged.
        key = _files_key(path)
        known = self._inspected.get((name, str(path)))
        if known is not None and known[0] == key:
            return known[1]
        model = inspect_model_dir(path, name)
        self._inspected[(name, str(path))] = (key, model)
        return model


_FilesKey = tuple[tuple[str, int, int], ...]


def _files_key(path: Path) -> _FilesKey:
    """Name, mtime and size of each entry of the folder."""
    try:
        stats = [(f.name, f.stat()) for f in path.iterdir()]
    except OSError:
        return ()
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in stats))


def _holds_kind(path: Path, kind: str) -> bool:
    header = read_model_bin_header(path / "model.bin")
    return header is None or header.spec is None or header.spec == _SPEC_OF_KIND[kind]


class _CachedRepo(msgspec.Struct, frozen=True):
    size_mb: float
    # (commit, refs, snapshot path) of each cached revision
    revisions: list[tuple[str, frozenset[str], str]]

    def snapshot(self, weights: WeightsSource) -> tuple[str, str] | None:
        """(path, commit) of the revision a worker would load offline, if it is complete: the
        pinned revision, else the one `main` points to."""
        wanted = weights.revision or "main"
        marker = "model.bin" if weights.format == "ctranslate2" else "config.json"
        for commit, refs, path in self.revisions:
            if (commit == wanted or wanted in refs) and (Path(path) / marker).is_file():
                return path, commit
        return None


def _scan_hub(cache_dir: Path) -> dict[str, _CachedRepo]:
    """Model repositories of the Hugging Face cache, by lower-cased repo id."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return {}
    except (OSError, ValueError) as exc:  # unreadable, or a file: an empty cache, not an error
        log.warning("cannot scan the Hugging Face cache %s: %s", cache_dir, exc)
        return {}
    for warning in info.warnings:
        log.debug("hub cache: %s", warning)  # a half-deleted repo is no reason to fail
    return {
        repo.repo_id.lower(): _CachedRepo(
            size_mb=round(repo.size_on_disk / _MB, 1),
            revisions=[
                (rev.commit_hash, rev.refs, str(rev.snapshot_path)) for rev in repo.revisions
            ],
        )
        for repo in info.repos
        if repo.repo_type == "model"
    }
