"""Downloads from a hub on loopback, in this process: progress, offline, refusals, broken files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from protocol.errors import ServiceError
from tests.support.fake_hub import FakeHub, Mode
from tests.support.gateway_process import free_port
from worker.models.downloads import Hub, hub_snapshot

REPO = "Systran/faster-whisper-base"
MODEL = "openai/whisper-base"

pytestmark = pytest.mark.usefixtures("online")


def _fetch(hub: FakeHub, cache: Path, events: list[tuple[int, int]] | None = None) -> Path:
    def sink(done: int, total: int) -> None:
        if events is not None:
            events.append((done, total))

    return hub_snapshot(MODEL, REPO, None, sink, Hub(endpoint=hub.url, cache_dir=cache))


def _failure(hub: FakeHub, cache: Path) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        _fetch(hub, cache)
    return caught.value


def _assert_same_files(folder: Path, source: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in source.iterdir())
    for path in source.iterdir():
        assert (folder / path.name).read_bytes() == path.read_bytes(), path.name


def _leftovers(cache: Path) -> list[str]:
    return [p.name for p in cache.rglob("*.incomplete")]


def test_a_download_reports_growing_bytes_up_to_the_listed_total(
    hub: FakeHub, tiny_whisper: Path, tmp_path: Path
) -> None:
    repo = hub.host(REPO, tiny_whisper, mode="slow")
    repo.slow_seconds = 0.7
    events: list[tuple[int, int]] = []
    started = time.monotonic()
    folder = _fetch(hub, tmp_path, events)
    elapsed = time.monotonic() - started

    _assert_same_files(folder, tiny_whisper)
    assert {total for _, total in events} == {repo.total_bytes}  # known from the first event
    done = [d for d, _ in events]
    assert done == sorted(set(done)), "bytes only grow, and each event says something new"
    assert done[-1] == repo.total_bytes
    assert len(done) >= 3, events  # at the start, at least once while it ran, at the end
    # Throttled to a few events a second, however many chunks arrived.
    assert len(events) <= elapsed / 0.25 + 3


def test_a_complete_snapshot_is_used_offline_and_online_without_fetching_again(
    hub: FakeHub, tiny_whisper: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.host(REPO, tiny_whisper)
    folder = _fetch(hub, tmp_path)
    before = len(hub.requests)
    assert _fetch(hub, tmp_path) == folder
    assert hub.requests[before:] == [f"GET /api/models/{REPO}"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert _fetch(hub, tmp_path) == folder
    assert len(hub.requests) == before + 1


@pytest.mark.parametrize("variable", ["LX_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_fails_at_once_with_download_required_and_sends_nothing(
    hub: FakeHub,
    tiny_whisper: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    hub.host(REPO, tiny_whisper)
    monkeypatch.setenv(variable, "1")
    error = _failure(hub, tmp_path)
    assert error.code == "DOWNLOAD_REQUIRED"
    assert error.details["repo_id"] == REPO and error.details["offline"] is True
    assert REPO in error.message and "offline" in error.message
    assert hub.requests == []


def test_an_unreachable_hub_is_download_required_with_the_cause(tmp_path: Path) -> None:
    nowhere = Hub(endpoint=f"http://127.0.0.1:{free_port()}", cache_dir=tmp_path)
    with pytest.raises(ServiceError) as caught:
        hub_snapshot(MODEL, REPO, None, None, nowhere)
    assert caught.value.code == "DOWNLOAD_REQUIRED"
    assert caught.value.details["offline"] is False
    assert "Connect" in caught.value.details["cause"]


@pytest.mark.parametrize("mode", ["gated", "private"])
def test_a_gated_or_private_repository_is_a_license_error(
    hub: FakeHub, tiny_whisper: Path, tmp_path: Path, mode: Mode
) -> None:
    hub.host(REPO, tiny_whisper, mode=mode)
    error = _failure(hub, tmp_path)
    assert error.code == "LICENSE_ERROR", error.message
    assert error.details["repo_id"] == REPO and error.details["status"] == 401
    assert error.details["gated"] is (mode == "gated")
    assert "HF_TOKEN" in error.message
    assert not list(tmp_path.rglob("model.bin"))


def test_a_repository_the_hub_does_not_have_is_model_not_found(
    hub: FakeHub, tmp_path: Path
) -> None:
    error = _failure(hub, tmp_path)
    assert error.code == "MODEL_NOT_FOUND"
    assert error.details["repo_id"] == REPO


@pytest.mark.parametrize("mode", ["broken", "short", "corrupt"])
def test_a_failed_transfer_leaves_no_model_and_the_next_online_load_fetches_it(
    hub: FakeHub,
    tiny_whisper: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: Mode,
) -> None:
    repo = hub.host(REPO, tiny_whisper, mode=mode)
    error = _failure(hub, tmp_path)
    assert error.code == "DOWNLOAD_REQUIRED", error.message
    assert error.details["repo_id"] == REPO
    assert error.details["size_bytes"] == repo.total_bytes
    assert _leftovers(tmp_path) == []
    assert not list(tmp_path.rglob("model.bin")), "no half-written weights in the snapshot"

    with monkeypatch.context() as offline:
        offline.setenv("HF_HUB_OFFLINE", "1")
        again = _failure(hub, tmp_path)
    assert again.code == "DOWNLOAD_REQUIRED"
    assert again.details["size_bytes"] == repo.total_bytes  # from the listing cached before

    hub.set_mode(REPO, "normal")
    _assert_same_files(_fetch(hub, tmp_path), tiny_whisper)
