"""The worker builds no path from an id or a hub listing that would leave its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from huggingface_hub.hf_api import RepoFile

from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import ModelSource
from worker.models.downloads import Hub, _listing
from worker.models.files import resolve_model_dir


@pytest.mark.parametrize(
    ("model_id", "source"),
    [
        ("../../etc", ModelSource(repo_id="openai/whisper-tiny.en")),
        ("openai/whisper-tiny.en", ModelSource(repo_id="../../etc/passwd")),
        ("openai/whisper-tiny.en", ModelSource(repo_id="/abs/repo")),
        ("openai/whisper-tiny.en", ModelSource(repo_id="org\\..\\x")),
        ("local/a\x00b", ModelSource(local_path="/tmp")),
    ],
)
def test_resolution_refuses_ids_that_leave_a_folder(model_id: str, source: ModelSource) -> None:
    with pytest.raises(ServiceError) as refused:
        resolve_model_dir(model_id, source)
    assert refused.value.code == ErrorCode.INVALID_REQUEST


def test_the_cache_folder_of_a_repository_stays_in_the_cache(tmp_path: Path) -> None:
    hub = Hub(cache_dir=tmp_path)
    assert hub.storage("openai/whisper-tiny.en") == tmp_path / "models--openai--whisper-tiny.en"
    with pytest.raises(ServiceError):
        hub.storage("../outside")


class _Listing:
    def __init__(self, paths: list[str]) -> None:
        self._paths = paths

    def list_repo_tree(self, repo_id: str, **_: Any) -> list[RepoFile]:
        # huggingface_hub's RepoFile takes the hub's JSON fields as keywords (untyped).
        return [RepoFile(path=p, size=1, oid="ab12") for p in self._paths]  # type: ignore[no-untyped-call]


def test_a_listing_naming_paths_outside_the_snapshot_is_refused() -> None:
    files = _listing(_Listing(["model.bin", "sub/config.json"]), "o/r", "c0ffee")  # type: ignore[arg-type]
    assert [f.path for f in files] == ["model.bin", "sub/config.json"]
    for bad in ("../../../.bashrc", "/etc/cron.d/x", "sub/../../x"):
        with pytest.raises(ServiceError) as refused:
            _listing(_Listing(["model.bin", bad]), "o/r", "c0ffee")  # type: ignore[arg-type]
        assert refused.value.details["path"] == bad
    with pytest.raises(ServiceError):
        _listing(_Listing(["model.bin"]), "o/r", "../../x")  # type: ignore[arg-type]
